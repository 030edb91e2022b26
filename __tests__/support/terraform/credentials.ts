/**
 * The AWS SDK for Go v2's default credential chain, as the AWS provider runs it when its configuration names
 * no keys (aws-sdk-go-base `getCredentialsProvider`), in the SDK's order:
 * 1. `AWS_PROFILE` set explicitly (or the provider's `profile`): that profile, from `AWS_SHARED_CREDENTIALS_FILE`
 *    (default `~/.aws/credentials`) or `AWS_CONFIG_FILE` (default `~/.aws/config`);
 * 2. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
 * 3. `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`): `AssumeRoleWithWebIdentity`;
 * 4. the `default` profile; then the EC2 instance metadata service, which the stub never calls (it stands
 *    for IMDS being off, as `AWS_EC2_METADATA_DISABLED=true` makes it).
 * Failures are the provider's diagnostics: `No valid credential sources found` with the SDK's error, or
 * `failed to get shared config profile, <name>`.
 *
 * Not covered: `role_arn` / `source_profile` / `credential_process` / SSO profiles, and the provider block's
 * own `access_key` / `assume_role*` arguments.
 */
import { existsSync, readFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ProviderError } from './aws-errors';
import { assumeRoleWithWebIdentity, AwsCredentials, StsCallError } from './sts-client';

/** Where credentials came from (the SDK's `Source`, in words). */
export type CredentialSource = 'environment' | 'web-identity' | 'shared-profile';

/** Resolved credentials and where they came from. */
export interface ResolvedCredentials extends AwsCredentials {
  readonly source: CredentialSource;
  /** The profile, for `shared-profile`. */
  readonly profile?: string;
}

/** The provider's documentation link, which its credential errors quote. */
const DOCUMENTATION_URL = 'https://registry.terraform.io/providers/hashicorp/aws';

/** The SDK's last link of the chain when IMDS is off. */
const NO_IMDS =
  'no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled to EC2 IMDS via client option, ' +
  'or "AWS_EC2_METADATA_DISABLED" environment variable';

/** aws-sdk-go-base's `NoValidCredentialSourcesError`. */
export function noValidCredentialSources(error: string): ProviderError {
  return new ProviderError(
    'No valid credential sources found',
    `Please see ${DOCUMENTATION_URL}\nfor more information about providing credentials.\n\nError: ${error}\n`,
  );
}

/**
 * Resolves credentials from `env` as the SDK's default chain does; `stsEndpoint` is where a web identity token
 * is exchanged. Throws a `ProviderError` worded as the provider's.
 */
export async function resolveCredentials(
  env: NodeJS.ProcessEnv,
  options: { readonly profile?: string; readonly stsEndpoint: () => string },
): Promise<ResolvedCredentials> {
  const explicitProfile = nonEmpty(options.profile) ?? nonEmpty(env.AWS_PROFILE);
  if (explicitProfile !== undefined) return fromProfile(env, explicitProfile, true);
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    return { accessKeyId, secretAccessKey, sessionToken: nonEmpty(env.AWS_SESSION_TOKEN), source: 'environment' };
  }
  const tokenFile = nonEmpty(env.AWS_WEB_IDENTITY_TOKEN_FILE);
  if (tokenFile !== undefined) return fromWebIdentity(env, tokenFile, options.stsEndpoint);
  return fromProfile(env, 'default', false);
}

async function fromWebIdentity(env: NodeJS.ProcessEnv, tokenFile: string, stsEndpoint: () => string): Promise<ResolvedCredentials> {
  const roleArn = nonEmpty(env.AWS_ROLE_ARN);
  if (roleArn === undefined) {
    // The SDK reads the token file only together with a role ARN; without one it errs while loading the configuration.
    throw new ProviderError('failed to load web identity token: role ARN is not set (AWS_ROLE_ARN)');
  }
  let webIdentityToken: string;
  try {
    webIdentityToken = readFileSync(tokenFile, 'utf8');
  } catch (error) {
    const cause = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message;
    throw noValidCredentialSources(
      `failed to refresh cached credentials, failed to retrieve jwt from provide source, unable to read file at ${tokenFile}: ` +
        `open ${tokenFile}: ${cause}`,
    );
  }
  // The SDK's default session name: the time in nanoseconds.
  const roleSessionName = nonEmpty(env.AWS_ROLE_SESSION_NAME) ?? (BigInt(Date.now()) * 1_000_000n).toString();
  try {
    const credentials = await assumeRoleWithWebIdentity(stsEndpoint(), { roleArn, roleSessionName, webIdentityToken });
    return { ...credentials, source: 'web-identity' };
  } catch (error) {
    if (!(error instanceof StsCallError)) throw error;
    throw noValidCredentialSources(`failed to refresh cached credentials, failed to retrieve credentials, ${error.message}`);
  }
}

function fromProfile(env: NodeJS.ProcessEnv, profile: string, explicit: boolean): ResolvedCredentials {
  const home = nonEmpty(env.HOME) ?? os.homedir();
  const credentialsFile = nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? path.join(home, '.aws', 'credentials');
  const configFile = nonEmpty(env.AWS_CONFIG_FILE) ?? path.join(home, '.aws', 'config');
  const fromCredentials = readIni(credentialsFile)[profile];
  const fromConfig = readIni(configFile)[profile === 'default' ? 'default' : `profile ${profile}`];
  if (fromCredentials === undefined && fromConfig === undefined) {
    // An explicitly named profile must exist (aws-sdk-go-base pre-validates it); a missing `default` is no error.
    if (explicit) throw new ProviderError(`failed to get shared config profile, ${profile}`);
    throw noValidCredentialSources(`failed to refresh cached credentials, ${NO_IMDS}`);
  }
  const section = { ...fromConfig, ...fromCredentials };
  const accessKeyId = nonEmpty(section.aws_access_key_id);
  const secretAccessKey = nonEmpty(section.aws_secret_access_key);
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw noValidCredentialSources(`failed to refresh cached credentials, ${NO_IMDS}`);
  }
  return { accessKeyId, secretAccessKey, sessionToken: nonEmpty(section.aws_session_token), source: 'shared-profile', profile };
}

/** The sections of an INI file (`[name]`, `key = value`, `#` and `;` comments); none when the file is missing. */
export function readIni(file: string): Record<string, Record<string, string>> {
  if (!existsSync(file)) return {};
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const raw of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (header !== null) {
      current = sections[header[1]] ??= {};
    } else if (current !== undefined && line.includes('=')) {
      const at = line.indexOf('=');
      current[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
    }
  }
  return sections;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
