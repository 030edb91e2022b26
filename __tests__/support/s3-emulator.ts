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
 * An optional `authorize` hook (the rehearsal's local S3, `rehearsal/local-aws/s3.ts`) sees every
 * request before anything else and either refuses it (its answer is sent as is) or lets it through;
 * a request it lets through reaches s3rver unsigned (its `Authorization` header and presigned
 * `X-Amz-*` query parameters removed), since s3rver knows no other keys than its own. Without the
 * hook nothing changes.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 */
import { randomUUID } from 'crypto';
import { Readable } from 'stream';

/** The parts of s3rver's filesystem store the tests read. */
interface S3rverStore {
  getBucket(bucket: string): Promise<unknown>;
  existsObject(bucket: string, key: string): Promise<boolean>;
  listObjects(bucket: string, options: { prefix?: string; maxKeys?: number }): Promise<{ objects: { key: string }[] }>;
  getObject(bucket: string, key: string): Promise<{ content: Readable } | null>;
  putBucket(bucket: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<unknown>;
}

interface KoaContext {
  method: string;
  path: string;
  status: number;
  type: string;
  body: unknown;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  get(header: string): string;
  set(header: string, value: string): void;
}

type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface S3rverInstance {
  readonly middleware: Middleware[];
  readonly store: S3rverStore;
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

/** One request as the `authorize` hook sees it (path-style: `/<bucket>/<key>`, still URL-encoded). */
export interface S3Request {
  readonly method: string;
  readonly path: string;
  /** Query parameters; a parameter given twice is an array. */
  readonly query: Readonly<Record<string, string | readonly string[]>>;
  /** A request header ('' when absent), by case-insensitive name. */
  header(name: string): string;
}

/** The answer that refuses a request: sent as is, s3rver never sees the request. */
export interface S3Refusal {
  readonly status: number;
  /** An S3 `<Error>` document (sent without a body for HEAD, as S3 does). */
  readonly body: string;
}

/** Decides a request: a refusal, or undefined to let it through. `answered` is told its final status. */
export interface S3Authorizer {
  authorize(request: S3Request): Promise<S3Refusal | undefined>;
  /** Called with the final status of a request the hook let through, once s3rver (or the conditional-write check) answered. */
  answered?(request: S3Request, status: number): Promise<void> | void;
}

/** Options of `startS3Emulator`. */
export interface S3EmulatorOptions {
  /** @default - no authorization: s3rver's own (its key `S3RVER` or unsigned) */
  readonly authorizer?: S3Authorizer;
}

/** The query parameters of a presigned (query-signed) request. */
const PRESIGNED_PARAMETERS =
  /^(x-amz-(algorithm|credential|date|expires|signedheaders|signature|security-token)|awsaccesskeyid|signature|expires)$/i;

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
  /** Writes an object directly (e.g. someone else's lock file); never refused by an authorizer. */
  write(bucket: string, key: string, content: string): Promise<void>;
  /** Creates a bucket directly in the store (as AWS does after an authorized CreateBucket); idempotent. */
  createBucket(bucket: string): Promise<void>;
  /** Removes a bucket and its objects directly from the store; idempotent. */
  deleteBucket(bucket: string): Promise<void>;
  /** How many conditional writes were refused. */
  readonly refusedConditionalWrites: number;
  stop(): Promise<void>;
}

const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
  '<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';

/** Starts s3rver on 127.0.0.1 with path-style buckets, storing in `directory`. */
export async function startS3Emulator(directory: string, options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  const S3rver = require('s3rver') as S3rverConstructor;
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false, resetOnClose: false });
  let refused = 0;
  const writing = new Map<string, Promise<void>>();
  const conditionalWrites: Middleware = async (ctx, next) => {
    if (ctx.method !== 'PUT' || ctx.get('if-none-match') !== '*') return next();
    const previous = writing.get(ctx.path) ?? Promise.resolve();
    let release = () => undefined as void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    writing.set(
      ctx.path,
      previous.then(() => mine),
    );
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
  // The emulator's own writes (`write`) carry this header, so that no authorizer refuses them.
  const internal = { header: 'x-s3-emulator-internal', value: randomUUID() };
  const { authorizer } = options;
  if (authorizer !== undefined) {
    const authorization: Middleware = async (ctx, next) => {
      if (ctx.get(internal.header) === internal.value) return next();
      const request: S3Request = { method: ctx.method, path: ctx.path, query: { ...ctx.query }, header: (name) => ctx.get(name) };
      const refusal = await authorizer.authorize(request);
      if (refusal !== undefined) {
        ctx.status = refusal.status;
        ctx.type = 'application/xml';
        ctx.body = refusal.body; // Koa sends no body for HEAD, as S3 does
        return;
      }
      delete ctx.headers.authorization;
      const presigned = Object.keys(ctx.query).filter((name) => PRESIGNED_PARAMETERS.test(name));
      if (presigned.length > 0) ctx.query = Object.fromEntries(Object.entries(ctx.query).filter(([name]) => !presigned.includes(name)));
      let status = 500;
      try {
        await next();
        status = ctx.status;
      } catch (error) {
        status = (error as { status?: number }).status ?? 500; // s3rver's S3Error, answered by its error handler
        throw error;
      } finally {
        await authorizer.answered?.(request, status);
      }
    };
    server.middleware.unshift(authorization);
  }
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
      const headers = { 'content-type': 'application/json', [internal.header]: internal.value };
      const response = await fetch(`http://127.0.0.1:${port}/${bucket}/${key}`, { method: 'PUT', body: content, headers });
      if (!response.ok) throw new Error(`PUT ${bucket}/${key}: ${response.status} ${await response.text()}`);
    },
    createBucket: async (bucket) => {
      await server.store.putBucket(bucket);
    },
    deleteBucket: async (bucket) => {
      await server.store.deleteBucket(bucket);
    },
    get refusedConditionalWrites() {
      return refused;
    },
    stop: () => server.close(),
  };
}
