/**
 * A local HTTPS stand-in for releases.hashicorp.com/terraform, on 127.0.0.1: it serves
 * `/<version>/terraform_<version>_linux_amd64.zip` holding a given `terraform` binary (the machine's),
 * so `scripts/install-terraform.sh` runs unchanged but for `TERRAFORM_RELEASES_URL`, `TERRAFORM_SHA256`
 * and `CURL_CA_BUNDLE`. The zip is written here (deflate and zlib.crc32, no zip binary); the TLS
 * certificate is the suite's self-signed one for 127.0.0.1, its PEM written to a file for curl.
 * Every other path answers 404, as the real server does for a version it does not have.
 */
import { createHash } from 'crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { createServer } from 'https';
import { listenOnLoopback } from './loopback';
import * as path from 'path';
import { promisify } from 'util';
import { crc32, deflateRaw } from 'zlib';
import { selfSignedCertificate } from '../terraform/certificate';

/** A request the server answered. */
export interface ReleaseRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** The running server. */
export interface TerraformReleases {
  /** e.g. `https://127.0.0.1:PORT`: the value for TERRAFORM_RELEASES_URL. */
  readonly url: string;
  /** The archive's path on the server, `/<version>/terraform_<version>_linux_amd64.zip`. */
  readonly archivePath: string;
  /** SHA-256 (hex) of the zip: the value for TERRAFORM_SHA256. */
  readonly sha256: string;
  /** A PEM file of the server's certificate: the value for CURL_CA_BUNDLE (or `curl --cacert`). */
  readonly caBundle: string;
  readonly requests: readonly ReleaseRequest[];
  /** Closes the server and removes the CA file. */
  stop(): Promise<void>;
}

/** One file of a zip archive. */
export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
  /** Unix permission bits. @default 0o755 */
  readonly mode?: number;
}

/** A zip archive (deflated entries, Unix permissions), as HashiCorp's release archives are. */
export async function zipArchive(entries: readonly ZipEntry[], modified = new Date()): Promise<Buffer> {
  const time = (modified.getHours() << 11) | (modified.getMinutes() << 5) | (modified.getSeconds() >> 1);
  const date = ((modified.getFullYear() - 1980) << 9) | ((modified.getMonth() + 1) << 5) | modified.getDate();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    // Level 1: a 90 MB binary deflates in well under a second (the default level takes seconds).
    const compressed = await promisify(deflateRaw)(entry.data, { level: 1 });
    const common = Buffer.alloc(26);
    common.writeUInt16LE(20, 0); // version needed: 2.0 (deflate)
    common.writeUInt16LE(0x0800, 2); // flags: UTF-8 names
    common.writeUInt16LE(8, 4); // method: deflate
    common.writeUInt16LE(time, 6);
    common.writeUInt16LE(date, 8);
    common.writeUInt32LE(crc32(entry.data), 10);
    common.writeUInt32LE(compressed.length, 14);
    common.writeUInt32LE(entry.data.length, 18);
    common.writeUInt16LE(name.length, 22);
    common.writeUInt16LE(0, 24); // extra field length
    const local = Buffer.concat([u32(0x04034b50), common, name, compressed]);
    const central = Buffer.alloc(14);
    central.writeUInt16LE(0, 0); // comment length
    central.writeUInt16LE(0, 2); // disk
    central.writeUInt16LE(0, 4); // internal attributes
    central.writeUInt32LE((((entry.mode ?? 0o755) | 0o100000) << 16) >>> 0, 6); // external: regular file + mode
    central.writeUInt32LE(offset, 10);
    centrals.push(Buffer.concat([u32(0x02014b50), u16(0x031e) /* made by Unix, 3.0 */, common, central, name]));
    locals.push(local);
    offset += local.length;
  }
  const directory = Buffer.concat(centrals);
  const count = u16(entries.length);
  const end = Buffer.concat([u32(0x06054b50), u16(0), u16(0), count, count, u32(directory.length), u32(offset), u16(0) /* comment */]);
  return Buffer.concat([...locals, directory, end]);
}

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

/**
 * Starts the server on 127.0.0.1 (a free port) serving `binary` as Terraform `version`.
 * @param options.directory a folder of the caller's for the CA file
 */
export async function startTerraformReleases(options: { binary: string; version: string; directory: string }): Promise<TerraformReleases> {
  if (!statSync(options.binary).isFile()) throw new Error(`${options.binary} is not a file`);
  const archive = await zipArchive([{ name: 'terraform', data: readFileSync(options.binary), mode: 0o755 }]);
  const archivePath = `/${options.version}/terraform_${options.version}_linux_amd64.zip`;
  const certificate = selfSignedCertificate();
  const caBundle = path.join(options.directory, 'terraform-releases-ca.pem');
  writeFileSync(caBundle, certificate.certPem);
  const requests: ReleaseRequest[] = [];

  const server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (request, response) => {
    const url = request.url ?? '/';
    const found = url.split('?')[0] === archivePath && (request.method === 'GET' || request.method === 'HEAD');
    const status = found ? 200 : 404;
    requests.push({ method: request.method ?? 'GET', path: url, status });
    const body = found ? archive : Buffer.from('Not Found\n');
    response.writeHead(status, { 'Content-Type': found ? 'application/zip' : 'text/plain; charset=utf-8', 'Content-Length': body.length });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  const { endpoint, stop } = await listenOnLoopback(server, 'https');
  return {
    url: endpoint,
    archivePath,
    sha256: createHash('sha256').update(archive).digest('hex'),
    caBundle,
    requests,
    stop: async () => {
      await stop();
      rmSync(caBundle, { force: true });
    },
  };
}
