/**
 * The two STS calls the AWS provider makes while it configures itself, as the AWS SDK for Go v2 makes them:
 * `AssumeRoleWithWebIdentity` (unsigned) and `GetCallerIdentity` (SigV4-signed), both in STS's query protocol
 * (a form-encoded POST with `Action` and `Version=2011-06-15`), answers and errors in STS's XML.
 *
 * Stands in for the SDK's STS client. The signature is NOT computed: the `Authorization` header has the
 * SigV4 shape with the access key ID in its `Credential`, which is all the local STS reads (it verifies no
 * signature). Only endpoints on this machine are called (see `localEndpoint`).
 */
import { randomUUID } from 'crypto';
import { AwsCallError, dialErrorText, operationErrorText, sendFailedText } from './aws-errors';

/** STS's API version, sent with every call. */
const STS_VERSION = '2011-06-15';

/** Credentials as the SDK holds them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** `GetCallerIdentity`'s answer. */
export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
}

/** A failed STS call: the service's error, or no answer at all; `message` is the SDK's text of it. */
export class StsCallError extends Error {
  constructor(
    message: string,
    /** The service's error, when it answered one. */
    readonly error?: AwsCallError,
  ) {
    super(message);
    this.name = 'StsCallError';
  }
}

/** The STS endpoint from the environment (`AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`), if one is set. */
export function stsEndpointFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  return url === undefined || url === '' ? undefined : url;
}

/** Whether a URL points at this machine: the stub never sends a request anywhere else. */
export function localEndpoint(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** `AssumeRoleWithWebIdentity`: the role's session credentials for a token. */
export async function assumeRoleWithWebIdentity(
  endpoint: string,
  request: { readonly roleArn: string; readonly roleSessionName: string; readonly webIdentityToken: string },
): Promise<AwsCredentials> {
  const xml = await stsCall(endpoint, 'AssumeRoleWithWebIdentity', {
    RoleArn: request.roleArn,
    RoleSessionName: request.roleSessionName,
    WebIdentityToken: request.webIdentityToken,
  });
  const credentials = xmlElement(xml, 'Credentials') ?? '';
  const accessKeyId = xmlText(credentials, 'AccessKeyId');
  const secretAccessKey = xmlText(credentials, 'SecretAccessKey');
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new StsCallError(`operation error STS: AssumeRoleWithWebIdentity, deserialization failed: no Credentials in ${xml.slice(0, 99)}`);
  }
  return { accessKeyId, secretAccessKey, sessionToken: xmlText(credentials, 'SessionToken') };
}

/** `GetCallerIdentity` with `credentials`, signed for `region`. */
export async function getCallerIdentity(endpoint: string, credentials: AwsCredentials, region: string): Promise<CallerIdentity> {
  const now = new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const headers: Record<string, string> = {
    'X-Amz-Date': amzDate,
    Authorization:
      `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${amzDate.slice(0, 8)}/${region}/sts/aws4_request, ` +
      `SignedHeaders=content-type;host;x-amz-date${credentials.sessionToken === undefined ? '' : ';x-amz-security-token'}, ` +
      `Signature=${'0'.repeat(64)}`,
  };
  if (credentials.sessionToken !== undefined) headers['X-Amz-Security-Token'] = credentials.sessionToken;
  const xml = await stsCall(endpoint, 'GetCallerIdentity', {}, headers);
  const result = xmlElement(xml, 'GetCallerIdentityResult') ?? '';
  const account = xmlText(result, 'Account');
  const arn = xmlText(result, 'Arn');
  const userId = xmlText(result, 'UserId');
  if (account === undefined || arn === undefined || userId === undefined) {
    throw new StsCallError(`operation error STS: GetCallerIdentity, deserialization failed: no identity in ${xml.slice(0, 200)}`);
  }
  return { account, arn, userId };
}

async function stsCall(
  endpoint: string,
  action: string,
  parameters: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<string> {
  const url = new URL('/', endpoint).toString();
  const body = new URLSearchParams({ Action: action, Version: STS_VERSION, ...parameters }).toString();
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers },
      body,
    });
  } catch (error) {
    throw new StsCallError(sendFailedText('STS', action, url, dialErrorText(error, new URL(url).host)));
  }
  const text = await response.text();
  if (response.ok) return text;
  const error: AwsCallError = {
    service: 'STS',
    operation: action,
    code: xmlText(text, 'Code') ?? `${response.status}`,
    message: xmlText(text, 'Message') ?? '',
    statusCode: response.status,
    requestId: response.headers.get('x-amzn-requestid') ?? xmlText(text, 'RequestId') ?? randomUUID(),
  };
  throw new StsCallError(operationErrorText(error), error);
}

/** The inner XML of the first `<tag>` element. */
export function xmlElement(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml)?.[1];
}

/** The text of the first `<tag>` element, entities decoded. */
export function xmlText(xml: string, tag: string): string | undefined {
  const inner = xmlElement(xml, tag);
  return inner === undefined ? undefined : decodeEntities(inner.trim());
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, entity: string) =>
    entity.startsWith('#x')
      ? String.fromCodePoint(parseInt(entity.slice(2), 16))
      : entity.startsWith('#')
        ? String.fromCodePoint(parseInt(entity.slice(1), 10))
        : named[entity],
  );
}
