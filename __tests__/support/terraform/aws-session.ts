/**
 * What the stub provider's `ConfigureProvider` does when it is a client of the local AWS (`TF_STUB_AWS_WORLD_URL`
 * set): what the real provider's `ConfigureProvider` does (terraform-provider-aws `internal/conns/config.go`):
 * resolve credentials through the SDK's chain, ask STS who they belong to (`GetCallerIdentity`), and refuse an
 * account outside `allowed_account_ids` (or inside `forbidden_account_ids`). The caller's account then builds
 * every ARN the stub fills in. Every failure is a `ProviderError` worded as the provider 6.x prints it.
 */
import { ProviderError } from './aws-errors';
import { resolveCredentials, ResolvedCredentials } from './credentials';
import { CallerIdentity, getCallerIdentity, localEndpoint, StsCallError, stsEndpointFromEnv } from './sts-client';
import { ObjectValue, Value } from './values';

/** The environment variable naming the provider API of the local AWS; without it the stub is a pure fake. */
export const WORLD_URL_ENV_VAR = 'TF_STUB_AWS_WORLD_URL';

/** A configured provider: whose credentials, which account, which region. */
export interface AwsSession {
  readonly credentials: ResolvedCredentials;
  readonly identity: CallerIdentity;
  readonly region: string;
}

/** Configures the provider from its configuration and the environment it was started with. */
export async function startSession(config: Value, env: NodeJS.ProcessEnv): Promise<AwsSession> {
  const c = (config ?? {}) as ObjectValue;
  const region = stringOf(c.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region === undefined) {
    const detail = 'The "region" attribute or the "AWS_REGION" or "AWS_DEFAULT_REGION" environment variables must be set.';
    throw new ProviderError('Missing region value', detail);
  }
  const endpoint = (): string => {
    const url = stsEndpointFromEnv(env);
    if (url === undefined || !localEndpoint(url)) {
      throw new ProviderError(
        'stub aws provider: no local STS endpoint',
        `The stub provider calls AWS only on 127.0.0.1: set AWS_ENDPOINT_URL_STS to the local STS (it is ${url ?? 'unset'}).`,
      );
    }
    return url;
  };
  const credentials = await resolveCredentials(env, { profile: stringOf(c.profile), stsEndpoint: endpoint });
  let identity: CallerIdentity;
  try {
    identity = await getCallerIdentity(endpoint(), credentials, region);
  } catch (error) {
    if (!(error instanceof StsCallError)) throw error;
    const what = 'Retrieving AWS account details: validating provider credentials: retrieving caller identity from STS';
    throw new ProviderError(`${what}: ${error.message}`);
  }
  const allowed = stringsOf(c.allowed_account_ids);
  const forbidden = stringsOf(c.forbidden_account_ids);
  if ((allowed.length > 0 && !allowed.includes(identity.account)) || forbidden.includes(identity.account)) {
    throw new ProviderError(accountNotAllowed(identity.account));
  }
  return { credentials, identity, region };
}

/** aws-sdk-go-base's `VerifyAccountIDAllowed` wording. */
export function accountNotAllowed(accountId: string): string {
  return `AWS account ID not allowed: ${accountId}`;
}

function stringOf(value: Value | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringsOf(value: Value | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
