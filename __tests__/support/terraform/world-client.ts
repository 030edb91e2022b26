/**
 * The stub provider's side of the local AWS's provider API (`POST <TF_STUB_AWS_WORLD_URL>/call`): one call per
 * resource operation (`read` at every refresh, `create` / `update` / `delete` at apply), answered with the
 * resource as AWS now holds it or with the AWS error of the first refused call. An error becomes the
 * diagnostic the real provider prints, e.g. `creating IAM Role (web): operation error IAM: CreateRole, https
 * response error StatusCode: 403, RequestID: <uuid>, api error AccessDenied: User: ... is not authorized ...`.
 *
 * Stands in for the provider's IAM / S3 / KMS clients: which AWS calls an operation makes, and what AWS
 * decides, is the provider API's business (helper A's `provider-api.ts`).
 */
import { randomUUID } from 'crypto';
import { operationErrorText, ProviderError } from './aws-errors';
import { ObjectValue } from './values';

/** A resource operation. */
export type WorldOperation = 'read' | 'create' | 'update' | 'delete';

/** A JSON object: a resource's attributes as Terraform holds them. */
export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = null | string | number | boolean | JsonValue[] | JsonObject;

/** The request body of `POST /call`. */
export interface WorldCall {
  readonly accessKeyId: string;
  readonly sessionToken?: string;
  readonly region: string;
  readonly resourceType: string;
  readonly operation: WorldOperation;
  readonly prior: JsonObject | null;
  readonly planned: JsonObject | null;
}

/** The AWS error of a refused call, as the provider API reports it. */
export interface WorldError {
  readonly service: string;
  readonly operation: string;
  readonly code: string;
  readonly statusCode: number;
  readonly message: string;
  readonly requestId?: string;
  readonly hostId?: string;
}

/** The answer of `POST /call`. */
export type WorldAnswer = { readonly state: JsonObject | null } | { readonly error: WorldError };

/**
 * Makes one call. Resolves with the new state (null: the resource does not exist); throws a `ProviderError`
 * worded as the provider's when AWS refused, or naming the provider API when it failed itself.
 */
export async function callWorld(url: string, call: WorldCall): Promise<JsonObject | null> {
  const endpoint = new URL('/call', url).toString();
  let response: Response;
  try {
    response = await fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(call) });
  } catch (error) {
    throw new ProviderError(`stub aws provider: the provider API at ${endpoint} is unreachable`, String((error as Error)?.cause ?? error));
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (response.status !== 200 || parsed === undefined || parsed === null) {
    // The API itself failed (a bad request, an unserved type, a decision it cannot make): its message names the cause.
    const message = (parsed as { message?: unknown } | undefined)?.message;
    throw new ProviderError(
      `stub aws provider: the provider API failed to answer ${call.operation} ${call.resourceType} (HTTP ${response.status})`,
      typeof message === 'string' ? message : text.slice(0, 2000),
    );
  }
  const answer = parsed as WorldAnswer;
  if ('error' in answer && answer.error !== undefined) throw new ProviderError(errorSummary(call, answer.error));
  if (!('state' in answer)) {
    throw new ProviderError('stub aws provider: the provider API answered neither state nor error', text.slice(0, 2000));
  }
  return answer.state;
}

/** The provider's message: what it was doing to which resource, then the SDK's text of the error. */
export function errorSummary(call: Pick<WorldCall, 'resourceType' | 'operation' | 'prior' | 'planned'>, error: WorldError): string {
  const sdkText = operationErrorText({ ...error, requestId: error.requestId ?? randomUUID() });
  return `${doing(call)}: ${sdkText}`;
}

/** The resource names the provider uses in its messages. */
const RESOURCE_NAMES: Readonly<Record<string, string>> = {
  aws_iam_role: 'IAM Role',
  aws_iam_role_policy: 'IAM Role Policy',
  aws_iam_role_policy_attachment: 'IAM Role Policy Attachment',
  aws_iam_openid_connect_provider: 'IAM OIDC Provider',
  aws_iam_policy: 'IAM Policy',
  aws_s3_bucket: 'S3 Bucket',
  aws_s3_bucket_policy: 'S3 Bucket Policy',
  aws_s3_bucket_versioning: 'S3 Bucket Versioning',
  aws_s3_bucket_server_side_encryption_configuration: 'S3 Bucket Server-side Encryption Configuration',
  aws_s3_bucket_public_access_block: 'S3 Bucket Public Access Block',
  aws_kms_key: 'KMS Key',
  aws_kms_alias: 'KMS Alias',
};

const VERBS: Readonly<Record<WorldOperation, string>> = { read: 'reading', create: 'creating', update: 'updating', delete: 'deleting' };

/** `creating IAM Role (web)`, `putting IAM Role (web) Policy (deploy)`, `attaching IAM Policy (arn) to IAM Role (web)`. */
function doing(call: Pick<WorldCall, 'resourceType' | 'operation' | 'prior' | 'planned'>): string {
  const values = (call.planned ?? call.prior ?? {}) as ObjectValue;
  const text = (key: string) => (typeof values[key] === 'string' ? (values[key] as string) : '');
  if (call.resourceType === 'aws_iam_role_policy' && call.operation !== 'read' && call.operation !== 'delete') {
    return `putting IAM Role (${text('role')}) Policy (${text('name')})`;
  }
  if (call.resourceType === 'aws_iam_role_policy_attachment' && call.operation === 'create') {
    return `attaching IAM Policy (${text('policy_arn')}) to IAM Role (${text('role')})`;
  }
  if (call.resourceType === 'aws_iam_role_policy_attachment' && call.operation === 'delete') {
    return `detaching IAM Policy (${text('policy_arn')}) from IAM Role (${text('role')})`;
  }
  const name = RESOURCE_NAMES[call.resourceType] ?? call.resourceType.replace(/^aws_/, '').replace(/_/g, ' ');
  const id =
    call.resourceType === 'aws_iam_role' && call.operation === 'create'
      ? text('name')
      : text('id') || text('name') || text('bucket');
  return id === '' ? `${VERBS[call.operation]} ${name}` : `${VERBS[call.operation]} ${name} (${id})`;
}
