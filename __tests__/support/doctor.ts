/**
 * Test support for the token doctor: the doctor and `jose` bundled to CommonJS (jose 6 is ESM-only,
 * and Jest's CommonJS runtime on Node 20 cannot require it), tokens signed with keys made in the
 * test, the doctor run in-process with captured output, and a JWKS server on 127.0.0.1.
 */
import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync } from 'fs';
import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import type * as Jose from 'jose';
import type * as Doctor from '../../src/doctor';
import { bitbucketClaims, BitbucketTokenClaims, ClaimsOptions } from '../../src/bitbucket/token';

/** The project root. */
export const ROOT = path.resolve(__dirname, '..', '..');

/** The example configuration file (tests pass it explicitly: the bundle lives outside the project). */
export const EXAMPLE_CONFIG_FILE = path.join(ROOT, 'config', 'example.json');

/** UUIDs of the example configuration (`config/example.json`), without braces. */
export const EXAMPLE = {
  workspace: 'acme',
  workspaceUuid: '4ccef084-b141-4ed8-8a6d-f7ee786f4016',
  infra: '96397bd0-02f7-409e-80c1-d99c0344747a',
  web: '321a1c39-2430-4131-a294-b2e03b3cafe7',
  stagingEnv: '591c2b80-ce14-4225-ab17-a366fc4c4e02',
  productionEnv: '74c10e16-5478-4362-8e1b-117147a4112f',
  webProductionEnv: 'bc48892b-427e-4925-8fb0-a6bc531b0070',
  stranger: '0d7e3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6',
  step: '0f5cbb2c-27b8-4b0e-9a3b-2f1a0c7d6e11',
} as const;

/** A fixed clock: 2026-03-01T12:00:00Z. */
export const NOW = new Date('2026-03-01T12:00:00Z');
export const NOW_SECONDS = NOW.getTime() / 1000;

export interface Bundle {
  readonly doctor: typeof Doctor;
  readonly jose: typeof Jose;
}

let bundle: Bundle | undefined;

/** The doctor and jose, bundled once per test file (about 0.1 s). */
export function loadBundle(): Bundle {
  if (bundle !== undefined) return bundle;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'doctor-bundle-'));
  const outfile = path.join(dir, 'bundle.js');
  try {
    buildSync({
      stdin: { contents: "export * as doctor from './src/doctor';\nexport * as jose from 'jose';\n", resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile,
      logLevel: 'warning',
    });
    bundle = require(outfile) as Bundle;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return bundle;
}

/** A signing key with its public JWK (for a JWKS). */
export interface TestKey {
  readonly kid: string;
  readonly privateKey: Jose.CryptoKey;
  readonly jwk: Jose.JWK;
}

/** Generates an RS256 key pair. */
export async function makeKey(kid: string): Promise<TestKey> {
  const { jose } = loadBundle();
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** Claims as Bitbucket issues them for the example workspace, issued at NOW, valid one hour. */
export function claims(options: Partial<ClaimsOptions> = {}): BitbucketTokenClaims {
  return bitbucketClaims({
    workspace: EXAMPLE.workspace,
    workspaceUuid: EXAMPLE.workspaceUuid,
    repositoryUuid: EXAMPLE.infra,
    stepUuid: EXAMPLE.step,
    issuedAt: NOW_SECONDS - 60,
    branchName: 'main',
    ...options,
  });
}

/** Signs claims into a compact JWT with `key` (RS256, its kid in the header). */
export async function sign(payload: BitbucketTokenClaims | Record<string, unknown>, key: TestKey): Promise<string> {
  const { jose } = loadBundle();
  return new jose.SignJWT(JSON.parse(JSON.stringify(payload)) as Jose.JWTPayload)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/** What one run of the doctor printed and returned. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of an in-process run. */
export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly stdin?: string;
  readonly fetch?: Doctor.FetchLike;
  readonly now?: Date;
  readonly cwd?: string;
}

/** Runs the doctor in-process with the example config (unless `env` says otherwise) and a fixed clock. */
export async function runDoctor(argv: string[], options: RunOptions = {}): Promise<Run> {
  const { doctor } = loadBundle();
  const out: string[] = [];
  const err: string[] = [];
  const code = await doctor.runDoctor({
    argv,
    env: options.env ?? { BITBUCKET_OIDC_CONFIG: EXAMPLE_CONFIG_FILE },
    cwd: options.cwd ?? ROOT,
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
    readStdin: async () => options.stdin ?? '',
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    now: () => options.now ?? NOW,
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** An HTTP server on 127.0.0.1 serving fixed JSON documents by path (404 otherwise). */
export interface JsonServer {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** Starts a server on an ephemeral port of 127.0.0.1; `documents` maps paths to bodies. */
export async function serveJson(documents: Record<string, unknown>): Promise<JsonServer> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = request.url ?? '/';
    requests.push(url);
    if (!(url in documents)) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = documents[url];
    response.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
