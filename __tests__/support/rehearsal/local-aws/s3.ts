/**
 * The rehearsal's local S3: stands in for S3's regional endpoint (Terraform's S3 backend reaches it
 * through `AWS_ENDPOINT_URL_S3` with path-style addressing). Storage is s3rver through
 * `support/s3-emulator.ts` (plain HTTP on 127.0.0.1, conditional writes); in front of it an authorizer
 * decides every request as S3 does, over one `AwsWorld`:
 *
 * - the caller from the SigV4 `Authorization` header or a presigned `X-Amz-Credential` (+ the session
 *   token). SigV4 signatures are NOT verified. An unknown key answers 403 InvalidAccessKeyId, a bad
 *   session token 400 InvalidToken, an expired one 400 ExpiredToken. An unsigned (anonymous) request
 *   is refused with `Access Denied` (the rehearsal grants nothing to the public);
 * - a bucket the world does not know answers 404 NoSuchBucket (S3 says so to anyone);
 * - each request maps to the IAM action S3 checks (ListObjectsV2 -> s3:ListBucket with `s3:prefix`,
 *   `s3:delimiter`, `s3:max-keys` when given; GET/HEAD object -> s3:GetObject; PUT -> s3:PutObject;
 *   DELETE -> s3:DeleteObject; bucket sub-resources to their own actions), decided by `world.authorize`
 *   with the bucket's policy (the world applies AWS's same-account / cross-account rules);
 * - under SSE-KMS also the KMS call S3 makes for the requester: kms:GenerateDataKey on PUT and
 *   kms:Decrypt on GET of an object it encrypted, on the object's key (the request's
 *   `x-amz-server-side-encryption-aws-kms-key-id`, else the bucket's default key), with the key's
 *   policy and the context keys `kms:ViaService`, `kms:CallerAccount` and
 *   `kms:EncryptionContext:aws:s3:arn`. A PUT asking for `AES256` uses no KMS key, as in S3;
 * - `aws:SecureTransport`: the server is plain HTTP but stands for S3's HTTPS endpoint, so every
 *   request carries `aws:SecureTransport = true`.
 * Denied requests answer 403 AccessDenied with AWS's message. Headers such as
 * `x-amz-server-side-encryption` pass through to s3rver. Buckets the world creates (`onBucketCreated`)
 * are created in the store; a CreateBucket through this API is recorded in the world.
 *
 * Not modelled: object ACLs, Block Public Access decisions, multi-object Delete (answered NotImplemented),
 * and the 403-instead-of-404 S3 gives for a missing key to a caller without s3:ListBucket.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
 */
import { randomBytes } from 'crypto';
import { S3Authorizer, S3Emulator, S3Refusal, S3Request, startS3Emulator } from '../../s3-emulator';
import type { AccessRequest, AwsWorld, BucketRecord, Caller, KmsKeyRecord } from './world';

/** One request as the authorizer decided it, for the rehearsal's output and for tests. */
export interface S3LogEntry {
  readonly method: string;
  /** Path-style, URL-decoded: `/<bucket>/<key>` */
  readonly path: string;
  /** The IAM actions checked, in order (empty when refused before any). */
  readonly actions: readonly string[];
  /** The caller's ARN, `anonymous`, or the unknown access key ID. */
  readonly caller: string;
  /** `OK` (let through), or the error code answered. */
  readonly code: string;
  /** The final HTTP status. */
  statusCode: number;
  readonly message?: string;
}

/** A running local S3. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** The store underneath (reads and writes that bypass authorization). */
  readonly emulator: S3Emulator;
  /** Every request, in order. */
  readonly log: readonly S3LogEntry[];
  /** Adds a bucket to the world, which creates it in the store (as a bootstrap stack would have). */
  createBucket(bucket: BucketRecord): Promise<void>;
  stop(): Promise<void>;
}

/** What one request asks S3 to do. */
interface Operation {
  readonly bucket?: string;
  readonly key?: string;
  readonly action: string;
  readonly context: Record<string, string>;
  /** Which KMS call S3 makes for the caller, if the object is (to be) encrypted under a KMS key. */
  readonly kms?: 'kms:GenerateDataKey' | 'kms:Decrypt';
}

/** An error as S3 answers it. */
class S3Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Escapes element text as AWS does: `&`, `<` and `>` only (quotes stay as they are, e.g. `on resource: "arn:..."`). */
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** S3's `<Error>` document. */
export function s3ErrorXml(code: string, message: string, extra: Record<string, string> = {}): string {
  const fields = Object.entries(extra)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${fields}` +
    `<RequestId>${randomBytes(8).toString('hex').toUpperCase()}</RequestId><HostId>${randomBytes(48).toString('base64')}</HostId></Error>`
  );
}

/** Bucket sub-resources (query parameters) and the actions S3 checks for them, per method. */
const BUCKET_SUBRESOURCES: Readonly<Record<string, Readonly<Partial<Record<string, string>>>>> = {
  policy: { GET: 's3:GetBucketPolicy', PUT: 's3:PutBucketPolicy', DELETE: 's3:DeleteBucketPolicy' },
  versioning: { GET: 's3:GetBucketVersioning', PUT: 's3:PutBucketVersioning' },
  encryption: { GET: 's3:GetEncryptionConfiguration', PUT: 's3:PutEncryptionConfiguration', DELETE: 's3:PutEncryptionConfiguration' },
  publicAccessBlock: {
    GET: 's3:GetBucketPublicAccessBlock',
    PUT: 's3:PutBucketPublicAccessBlock',
    DELETE: 's3:PutBucketPublicAccessBlock',
  },
  tagging: { GET: 's3:GetBucketTagging', PUT: 's3:PutBucketTagging', DELETE: 's3:PutBucketTagging' },
  lifecycle: { GET: 's3:GetLifecycleConfiguration', PUT: 's3:PutLifecycleConfiguration', DELETE: 's3:PutLifecycleConfiguration' },
  cors: { GET: 's3:GetBucketCORS', PUT: 's3:PutBucketCORS', DELETE: 's3:PutBucketCORS' },
  acl: { GET: 's3:GetBucketAcl', PUT: 's3:PutBucketAcl' },
  ownershipControls: {
    GET: 's3:GetBucketOwnershipControls',
    PUT: 's3:PutBucketOwnershipControls',
    DELETE: 's3:PutBucketOwnershipControls',
  },
  location: { GET: 's3:GetBucketLocation' },
  versions: { GET: 's3:ListBucketVersions' },
  uploads: { GET: 's3:ListBucketMultipartUploads' },
  website: { GET: 's3:GetBucketWebsite', PUT: 's3:PutBucketWebsite', DELETE: 's3:DeleteBucketWebsite' },
  logging: { GET: 's3:GetBucketLogging', PUT: 's3:PutBucketLogging' },
  'object-lock': { GET: 's3:GetBucketObjectLockConfiguration', PUT: 's3:PutBucketObjectLockConfiguration' },
};

/** Object sub-resources and their actions, per method. */
const OBJECT_SUBRESOURCES: Readonly<Record<string, Readonly<Partial<Record<string, string>>>>> = {
  tagging: { GET: 's3:GetObjectTagging', PUT: 's3:PutObjectTagging', DELETE: 's3:DeleteObjectTagging' },
  acl: { GET: 's3:GetObjectAcl', PUT: 's3:PutObjectAcl' },
  retention: { GET: 's3:GetObjectRetention', PUT: 's3:PutObjectRetention' },
  'legal-hold': { GET: 's3:GetObjectLegalHold', PUT: 's3:PutObjectLegalHold' },
};

const single = (value: string | readonly string[] | undefined): string | undefined => (typeof value === 'string' ? value : value?.[0]);

/** The IAM action (and KMS call) S3 checks for one request. */
function operationOf(request: S3Request): Operation {
  const [, bucketPart = '', ...keyParts] = request.path.split('/');
  const bucket = bucketPart === '' ? undefined : decodeURIComponent(bucketPart);
  const key = keyParts.length === 0 || keyParts.join('/') === '' ? undefined : decodeURIComponent(keyParts.join('/'));
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  const has = (name: string) => request.query[name] !== undefined;
  const notImplemented = () => new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', 501);
  if (bucket === undefined) {
    if (method === 'GET') return { action: 's3:ListAllMyBuckets', context: {} };
    throw notImplemented();
  }
  if (key === undefined) {
    const subresource = Object.keys(BUCKET_SUBRESOURCES).find(has);
    if (subresource !== undefined) {
      const action = BUCKET_SUBRESOURCES[subresource][method];
      if (action === undefined)
        throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
          Method: request.method,
          ResourceType: subresource.toUpperCase(),
        });
      return { bucket, action, context: {} };
    }
    if (method === 'GET') {
      // ListObjects(V2) and HeadBucket: s3:ListBucket, with the listing's parameters as condition keys.
      const context: Record<string, string> = {};
      for (const name of ['prefix', 'delimiter', 'max-keys']) {
        const value = single(request.query[name]);
        if (value !== undefined) context[`s3:${name}`] = value;
      }
      return { bucket, action: 's3:ListBucket', context };
    }
    if (method === 'PUT') return { bucket, action: 's3:CreateBucket', context: {} };
    if (method === 'DELETE') return { bucket, action: 's3:DeleteBucket', context: {} };
    throw notImplemented(); // POST ?delete (multi-object delete) would need a decision per key
  }
  const subresource = Object.keys(OBJECT_SUBRESOURCES).find(has);
  if (subresource !== undefined) {
    const action = OBJECT_SUBRESOURCES[subresource][method];
    if (action === undefined)
      throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
        Method: request.method,
        ResourceType: subresource.toUpperCase(),
      });
    return { bucket, key, action, context: {} };
  }
  const versioned = has('versionId');
  if (method === 'GET') return { bucket, key, action: versioned ? 's3:GetObjectVersion' : 's3:GetObject', context: {}, kms: 'kms:Decrypt' };
  if (method === 'DELETE')
    return {
      bucket,
      key,
      action: has('uploadId') ? 's3:AbortMultipartUpload' : versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject',
      context: {},
    };
  if (method === 'PUT' || method === 'POST') {
    const context: Record<string, string> = {};
    const encryption = request.header('x-amz-server-side-encryption');
    const keyId = request.header('x-amz-server-side-encryption-aws-kms-key-id');
    if (encryption !== '') context['s3:x-amz-server-side-encryption'] = encryption;
    if (keyId !== '') context['s3:x-amz-server-side-encryption-aws-kms-key-id'] = keyId;
    // Multipart uploads: S3 asks KMS for the data key when the upload starts (POST ?uploads).
    const startsData = method === 'PUT' ? !has('uploadId') : has('uploads');
    return { bucket, key, action: 's3:PutObject', context, ...(startsData ? { kms: 'kms:GenerateDataKey' as const } : {}) };
  }
  throw notImplemented();
}

/** The access key ID and session token of a signed request, or undefined (anonymous). */
function signerOf(request: S3Request): { accessKeyId: string; sessionToken?: string } | undefined {
  const authorization = request.header('authorization');
  const accessKeyId =
    /Credential=([^/,\s]+)\//.exec(authorization)?.[1] ??
    /^AWS ([^:\s]+):/.exec(authorization)?.[1] ??
    single(request.query['X-Amz-Credential'])?.split('/')[0] ??
    single(request.query.AWSAccessKeyId);
  if (accessKeyId === undefined || accessKeyId === '') return undefined;
  const token = request.header('x-amz-security-token') || single(request.query['X-Amz-Security-Token']);
  return { accessKeyId, ...(token === undefined || token === '' ? {} : { sessionToken: token }) };
}

/** The region a request was signed for (CreateBucket places the bucket there). */
function signedRegion(request: S3Request): string | undefined {
  const credential = /Credential=([^,\s]+)/.exec(request.header('authorization'))?.[1] ?? single(request.query['X-Amz-Credential']);
  return credential?.split('/')[2];
}

/** The world's credential errors (S3's wording), with the key S3 names in an InvalidAccessKeyId answer. */
function callerError(error: unknown, accessKeyId: string): unknown {
  const { code, message, statusCode } = error as { code?: unknown; message?: unknown; statusCode?: unknown };
  if (typeof code !== 'string' || typeof message !== 'string' || typeof statusCode !== 'number') return error;
  return new S3Error(code, message, statusCode, code === 'InvalidAccessKeyId' ? { AWSAccessKeyId: accessKeyId } : {});
}

/** The KMS key a (KMS-encrypted) write uses: the request's key, else the bucket's default one. */
function kmsKeyFor(world: AwsWorld, bucket: BucketRecord, request: S3Request): KmsKeyRecord | 'none' | undefined {
  const requested = request.header('x-amz-server-side-encryption');
  if (requested === 'AES256') return 'none';
  const keyId = request.header('x-amz-server-side-encryption-aws-kms-key-id');
  const wanted =
    keyId !== ''
      ? keyId
      : requested.startsWith('aws:kms') || bucket.encryption?.algorithm === 'aws:kms'
        ? bucket.encryption?.kmsKeyArn
        : undefined;
  // The AWS managed key aws/s3 (aws:kms without a key of the bucket's) is not modelled: no KMS decision.
  if (wanted === undefined) return 'none';
  return [...world.kmsKeys.values()].find((key) => key.arn === wanted || key.keyId === wanted);
}

/** Starts the local S3 on 127.0.0.1, storing in `directory` (the caller removes it). */
export async function startLocalS3(world: AwsWorld, directory: string): Promise<LocalS3> {
  const log: S3LogEntry[] = [];
  /** Which KMS key encrypted each object written through this server (`bucket/key` -> key ARN). */
  const objectKeys = new Map<string, string>();
  /** Requests let through, until s3rver answered: their log entry and what to record on success. */
  const pending = new Map<S3Request, { readonly entry: S3LogEntry; readonly after?: () => Promise<void> | void }>();
  const decide = (caller: Caller, access: AccessRequest, resourcePolicy?: BucketRecord['policy']) =>
    world.authorize(caller, access, resourcePolicy);

  const authorize = async (request: S3Request): Promise<S3Refusal | undefined> => {
    const actions: string[] = [];
    let who = 'anonymous';
    const path = decodeURIComponent(request.path);
    try {
      const operation = operationOf(request);
      const signer = signerOf(request);
      if (signer === undefined) throw new S3Error('AccessDenied', 'Access Denied', 403);
      who = signer.accessKeyId;
      let caller: Caller;
      try {
        caller = world.caller(signer.accessKeyId, signer.sessionToken, 'S3');
      } catch (error) {
        throw callerError(error, signer.accessKeyId);
      }
      who = caller.arn;
      const partition = caller.arn.split(':')[1] ?? 'aws';
      const bucket = operation.bucket === undefined ? undefined : world.buckets.get(operation.bucket);
      if (operation.bucket !== undefined && bucket === undefined && operation.action !== 's3:CreateBucket') {
        throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: operation.bucket });
      }
      if (bucket !== undefined && operation.action === 's3:CreateBucket') {
        throw bucket.accountId === caller.accountId
          ? new S3Error(
              'BucketAlreadyOwnedByYou',
              'Your previous request to create the named bucket succeeded and you already own it.',
              409,
              { BucketName: bucket.name },
            )
          : new S3Error(
              'BucketAlreadyExists',
              'The requested bucket name is not available. The bucket namespace is shared by all users of the system. ' +
                'Please select a different name and try again.',
              409,
              { BucketName: bucket.name },
            );
      }
      const resource =
        operation.bucket === undefined
          ? '*'
          : `arn:${partition}:s3:::${operation.bucket}${operation.key === undefined ? '' : `/${operation.key}`}`;
      const context = { ...operation.context, 'aws:SecureTransport': 'true' };
      actions.push(operation.action);
      const verdict = await decide(
        caller,
        { action: operation.action, resource, resourceAccount: bucket?.accountId ?? caller.accountId, context },
        bucket?.policy,
      );
      if (!verdict.allowed) throw new S3Error('AccessDenied', verdict.message, 403);

      let after: (() => Promise<void> | void) | undefined;
      if (bucket !== undefined && operation.key !== undefined && operation.kms !== undefined) {
        const objectPath = `${bucket.name}/${operation.key}`;
        const kmsKey =
          operation.kms === 'kms:GenerateDataKey'
            ? kmsKeyFor(world, bucket, request)
            : objectKeys.has(objectPath)
              ? ([...world.kmsKeys.values()].find((key) => key.arn === objectKeys.get(objectPath)) ?? 'none')
              : 'none';
        if (kmsKey === undefined) {
          const keyId = request.header('x-amz-server-side-encryption-aws-kms-key-id') || (bucket.encryption?.kmsKeyArn ?? '');
          throw new S3Error('KMS.NotFoundException', `Key '${keyId}' does not exist`, 400);
        }
        if (kmsKey !== 'none') {
          actions.push(operation.kms);
          const kmsContext = {
            'kms:ViaService': `s3.${bucket.region}.amazonaws.com`,
            'kms:CallerAccount': caller.accountId,
            'kms:EncryptionContext:aws:s3:arn': resource,
          };
          const kmsVerdict = await decide(
            caller,
            { action: operation.kms, resource: kmsKey.arn, resourceAccount: kmsKey.accountId, context: kmsContext },
            kmsKey.policy,
          );
          if (!kmsVerdict.allowed) throw new S3Error('AccessDenied', kmsVerdict.message, 403);
        }
        if (operation.kms === 'kms:GenerateDataKey') {
          after = () => {
            if (kmsKey === 'none') objectKeys.delete(objectPath);
            else objectKeys.set(objectPath, kmsKey.arn);
          };
        }
      }
      if (operation.action === 's3:CreateBucket' && operation.bucket !== undefined) {
        const name = operation.bucket;
        const region = signedRegion(request) ?? 'us-east-1';
        // New buckets block public access and are encrypted with SSE-S3 by default (S3, since 2023).
        after = () =>
          world.addBucket({
            name,
            accountId: caller.accountId,
            region,
            versioning: false,
            publicAccessBlocked: true,
            encryption: { algorithm: 'AES256' },
          });
      }
      if (operation.action === 's3:DeleteBucket' && operation.bucket !== undefined) {
        const name = operation.bucket;
        after = () => world.removeBucket(name);
      }
      if (operation.action === 's3:DeleteObject' && operation.key !== undefined && operation.bucket !== undefined) {
        const objectPath = `${operation.bucket}/${operation.key}`;
        after = () => {
          objectKeys.delete(objectPath);
        };
      }
      const entry: S3LogEntry = { method: request.method, path, actions, caller: who, code: 'OK', statusCode: 0 };
      pending.set(request, { entry, ...(after === undefined ? {} : { after }) });
      log.push(entry);
      return undefined;
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      log.push({
        method: request.method,
        path,
        actions,
        caller: who,
        code: error.code,
        statusCode: error.statusCode,
        message: error.message,
      });
      return { status: error.statusCode, body: s3ErrorXml(error.code, error.message, error.extra) };
    }
  };

  const authorizer: S3Authorizer = {
    authorize,
    answered: async (request, status) => {
      const passed = pending.get(request);
      pending.delete(request);
      if (passed === undefined) return;
      passed.entry.statusCode = status;
      if (status >= 200 && status < 300) await passed.after?.();
    },
  };
  const emulator = await startS3Emulator(directory, { authorizer });
  for (const bucket of world.buckets.values()) await emulator.createBucket(bucket.name);
  world.onBucketCreated((bucket) => emulator.createBucket(bucket.name));
  world.onBucketDeleted((bucket) => emulator.deleteBucket(bucket.name));
  return {
    endpoint: emulator.endpoint,
    emulator,
    log,
    createBucket: (bucket) => world.addBucket(bucket),
    stop: () => emulator.stop(),
  };
}
