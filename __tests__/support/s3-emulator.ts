/**
 * A local S3 for Terraform's S3 backend: `s3rver` (a test-only devDependency) on 127.0.0.1, on a
 * free port, storing in a folder the caller removes. It accepts only its own access key ID (`S3RVER`)
 * or unsigned requests; it does not verify SigV4 signatures (s3rver 3.7 leaves them unimplemented).
 *
 * One addition: S3 refuses a PutObject with `If-None-Match: *` when the key exists (conditional
 * writes, 2024), which is how Terraform's `use_lockfile` takes a lock; s3rver 3.7 ignores the header
 * on PUT (tried: a second apply silently overwrote a held lock). A Koa middleware in front of its
 * routes answers `412 PreconditionFailed` instead, as S3 does, and serialises conditional writes per
 * key so that two of them cannot both succeed.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 */
import { Readable } from 'stream';

/** The access key and secret s3rver accepts (its built-in account). */
export const EMULATOR_CREDENTIALS = { accessKey: 'S3RVER', secretKey: 'S3RVER' } as const;

/** The parts of s3rver's filesystem store the tests read. */
interface S3rverStore {
  getBucket(bucket: string): Promise<unknown>;
  existsObject(bucket: string, key: string): Promise<boolean>;
  listObjects(bucket: string, options: { prefix?: string; maxKeys?: number }): Promise<{ objects: { key: string }[] }>;
  getObject(bucket: string, key: string): Promise<{ content: Readable } | null>;
}

interface KoaContext {
  method: string;
  path: string;
  status: number;
  type: string;
  body: unknown;
  get(header: string): string;
}

type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface S3rverInstance {
  readonly middleware: Middleware[];
  readonly store: S3rverStore;
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

/** A running emulator. */
export interface S3Emulator {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Whether a bucket exists. */
  bucketExists(bucket: string): Promise<boolean>;
  /** The keys of a bucket, sorted. */
  keys(bucket: string): Promise<string[]>;
  /** An object's content, or undefined. */
  read(bucket: string, key: string): Promise<string | undefined>;
  /** Writes an object directly (e.g. someone else's lock file). */
  write(bucket: string, key: string, content: string): Promise<void>;
  /** How many conditional writes were refused. */
  readonly refusedConditionalWrites: number;
  stop(): Promise<void>;
}

const PRECONDITION_FAILED = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>'
  + '<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';

/** Starts s3rver on 127.0.0.1 with path-style buckets, storing in `directory`. */
export async function startS3Emulator(directory: string): Promise<S3Emulator> {
  const S3rver = require('s3rver') as S3rverConstructor;
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false, resetOnClose: false });
  let refused = 0;
  const writing = new Map<string, Promise<void>>();
  const conditionalWrites: Middleware = async (ctx, next) => {
    if (ctx.method !== 'PUT' || ctx.get('if-none-match') !== '*') return next();
    const previous = writing.get(ctx.path) ?? Promise.resolve();
    let release = () => undefined as void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    writing.set(ctx.path, previous.then(() => mine));
    await previous;
    try {
      const [, bucket, ...key] = ctx.path.split('/');
      if (await server.store.existsObject(bucket, decodeURIComponent(key.join('/')))) {
        refused += 1;
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body = PRECONDITION_FAILED;
        return;
      }
      await next();
    } finally {
      release();
    }
  };
  server.middleware.unshift(conditionalWrites);
  const { port } = await server.run();

  const read = async (bucket: string, key: string): Promise<string | undefined> => {
    const object = await server.store.getObject(bucket, key);
    if (object === null) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of object.content) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucketExists: async (bucket) => (await server.store.getBucket(bucket)) !== null,
    keys: async (bucket) => (await server.store.listObjects(bucket, { maxKeys: 10_000 })).objects.map((o) => o.key).sort(),
    read,
    write: async (bucket, key, content) => {
      // An anonymous PUT through the S3 API (s3rver accepts unsigned requests).
      const response = await fetch(`http://127.0.0.1:${port}/${bucket}/${key}`, { method: 'PUT', body: content, headers: { 'content-type': 'application/json' } });
      if (!response.ok) throw new Error(`PUT ${bucket}/${key}: ${response.status} ${await response.text()}`);
    },
    get refusedConditionalWrites() {
      return refused;
    },
    stop: () => server.close(),
  };
}

/**
 * The S3 backend settings that point Terraform at the emulator, as a `-backend-config` file: the
 * endpoint, path-style addressing, the emulator's keys, and no call to STS, IAM or the instance
 * metadata service (none exists here).
 */
export function emulatorBackendConfig(endpoint: string): string {
  return [
    `endpoints = { s3 = "${endpoint}" }`,
    'use_path_style = true',
    `access_key = "${EMULATOR_CREDENTIALS.accessKey}"`,
    `secret_key = "${EMULATOR_CREDENTIALS.secretKey}"`,
    'skip_credentials_validation = true',
    'skip_requesting_account_id = true',
    'skip_metadata_api_check = true',
    'skip_region_validation = true',
    '',
  ].join('\n');
}
