/**
 * How the real `hashicorp/aws` provider (6.x, AWS SDK for Go v2 through aws-sdk-go-base) words a failed AWS
 * call, for the stub provider's diagnostics: the SDK's `operation error <Service>: <Operation>, https response
 * error StatusCode: <n>, RequestID: <id>, api error <Code>: <Message>` (an error the service model declares
 * drops the `api error` prefix, as smithy's generated error types do), and a diagnostic the stub hands to
 * Terraform as the provider would (`ProviderError`).
 *
 * Stands in for smithy-go's `OperationError` / `ResponseError` / `GenericAPIError` formatting.
 */

/** One AWS error answer: which call, and what the service said. */
export interface AwsCallError {
  /** The SDK's service ID, e.g. `IAM`, `STS`, `S3`, `KMS`. */
  readonly service: string;
  /** The API operation, e.g. `CreateRole`. */
  readonly operation: string;
  readonly code: string;
  readonly statusCode: number;
  readonly message: string;
  /** The service's request ID (`x-amzn-RequestId`); a fresh UUID when the answer carried none. */
  readonly requestId: string;
  /** S3's extended request ID (`x-amz-id-2`): S3 errors print it as `HostID`. */
  readonly hostId?: string;
}

/**
 * Error codes that the SDK's service models declare as error shapes, by service: their Go error type prints
 * `<Code>: <Message>`; any other code is a `GenericAPIError` and prints `api error <Code>: <Message>`.
 */
const MODELED_ERRORS: Readonly<Record<string, readonly string[]>> = {
  IAM: [
    'ConcurrentModification', 'DeleteConflict', 'EntityAlreadyExists', 'InvalidInput', 'LimitExceeded',
    'MalformedPolicyDocument', 'NoSuchEntity', 'PolicyNotAttachable', 'ServiceFailure', 'UnmodifiableEntity',
  ],
  STS: [
    'ExpiredTokenException', 'IDPCommunicationError', 'IDPRejectedClaim', 'InvalidIdentityToken', 'MalformedPolicyDocument',
    'PackedPolicyTooLarge', 'RegionDisabledException',
  ],
  KMS: ['NotFoundException', 'AlreadyExistsException', 'MalformedPolicyDocumentException', 'KMSInvalidStateException'],
  S3: ['NoSuchBucket', 'NoSuchKey', 'BucketAlreadyExists', 'BucketAlreadyOwnedByYou'],
};

/** The SDK's text of a failed call: what the provider puts after `creating IAM Role (web): `. */
export function operationErrorText(error: AwsCallError): string {
  const modeled = MODELED_ERRORS[error.service]?.includes(error.code) ?? false;
  const hostId = error.hostId === undefined ? '' : `HostID: ${error.hostId}, `;
  const apiError = modeled ? `${error.code}: ${error.message}` : `api error ${error.code}: ${error.message}`;
  return `operation error ${error.service}: ${error.operation}, https response error StatusCode: ${error.statusCode}, ` +
    `RequestID: ${error.requestId}, ${hostId}${apiError}`;
}

/** The SDK's text of a call that never got an answer (e.g. connection refused). */
export function sendFailedText(service: string, operation: string, url: string, cause: string): string {
  return `operation error ${service}: ${operation}, https response error StatusCode: 0, RequestID: , request send failed, ` +
    `Post ${JSON.stringify(url)}: ${cause}`;
}

/** The Go `net` wording of a failed connection, from Node's error. */
export function dialErrorText(error: unknown, host: string): string {
  const code = (error as { cause?: { code?: string }; code?: string })?.cause?.code ?? (error as { code?: string })?.code;
  if (code === 'ECONNREFUSED') return `dial tcp ${host}: connect: connection refused`;
  if (code === 'ENOTFOUND') return `dial tcp: lookup ${host.replace(/:\d+$/, '')}: no such host`;
  return `dial tcp ${host}: ${(error as Error)?.message ?? String(error)}`;
}

/**
 * A Terraform diagnostic (severity ERROR) worded as the provider words it. The real provider puts most
 * errors wholly in the summary (`sdkdiag.AppendErrorf`), leaving the detail empty; aws-sdk-go-base's
 * credential errors have both.
 */
export class ProviderError extends Error {
  constructor(
    readonly summary: string,
    readonly detail?: string,
  ) {
    super(detail === undefined ? summary : `${summary}: ${detail}`);
    this.name = 'ProviderError';
  }
}
