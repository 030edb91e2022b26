/**
 * The rehearsal's local AWS: one in-memory `AwsWorld` (IAM, KMS, S3 metadata, sessions) served by three
 * servers on 127.0.0.1, standing in for what a pipeline step reaches in AWS: STS (`sts.ts`, for
 * `AWS_ENDPOINT_URL_STS`), S3 (`s3.ts`, for `AWS_ENDPOINT_URL_S3`) and the provider API the stub
 * Terraform AWS provider asks (`provider-api.ts`, for `TF_STUB_AWS_WORLD_URL`).
 */
import { startProviderApi, type MadeCall } from './provider-api';
import { startLocalS3, type LocalS3, type S3LogEntry } from './s3';
import { startLocalSts, type StsLogEntry } from './sts';
import { AwsWorld } from './world';

export { startLocalS3, type LocalS3, type S3LogEntry } from './s3';
export { startLocalSts, type LocalSts, type StsLogEntry } from './sts';

/** Options of `startLocalAws`. */
export interface LocalAwsOptions {
  /** S3's storage folder (s3rver's files); the caller creates it and removes it after `stop()`. */
  readonly directory: string;
  /** @default - a new, empty `AwsWorld` */
  readonly world?: AwsWorld;
  /** The clock STS checks token expiry with. @default () => new Date() */
  readonly now?: () => Date;
  /** The caller address STS decides `aws:SourceIp` with. @default - none */
  readonly sourceIp?: string;
}

/** The running local AWS. */
export interface LocalAws {
  readonly world: AwsWorld;
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL_STS */
  readonly stsEndpoint: string;
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL_S3 (path-style) */
  readonly s3Endpoint: string;
  /** `http://127.0.0.1:<port>`: TF_STUB_AWS_WORLD_URL */
  readonly providerApiEndpoint: string;
  /** Every STS request answered. */
  readonly stsLog: readonly StsLogEntry[];
  /** Every S3 request decided. */
  readonly s3Log: readonly S3LogEntry[];
  /** The local S3 itself: its store can be read without authorization (what a test inspects). */
  readonly s3: LocalS3;
  /** Every AWS API call the provider API made for the stub provider. */
  readonly providerCalls: readonly MadeCall[];
  /** Stops all three servers (the storage folder stays for the caller to remove). */
  stop(): Promise<void>;
}

/** Starts STS, S3 and the provider API over one world; if one fails to start, the others are stopped. */
export async function startLocalAws(options: LocalAwsOptions): Promise<LocalAws> {
  const { directory, now, sourceIp } = options;
  const world = options.world ?? new AwsWorld(now === undefined ? {} : { now });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    const results = await Promise.allSettled(
      stops
        .splice(0)
        .reverse()
        .map((stop) => stop()),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  };
  try {
    const sts = await startLocalSts(world, { ...(now === undefined ? {} : { now }), ...(sourceIp === undefined ? {} : { sourceIp }) });
    stops.push(() => sts.stop());
    const s3 = await startLocalS3(world, directory);
    stops.push(() => s3.stop());
    const providerApi = await startProviderApi(world);
    stops.push(() => providerApi.stop());
    return {
      world,
      stsEndpoint: sts.endpoint,
      s3Endpoint: s3.endpoint,
      providerApiEndpoint: providerApi.endpoint,
      stsLog: sts.log,
      s3Log: s3.log,
      s3,
      providerCalls: providerApi.calls,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
