/**
 * The rehearsal's local STS: stands in for `https://sts.<region>.amazonaws.com` (Terraform's S3
 * backend and the stub AWS provider reach it through `AWS_ENDPOINT_URL_STS`). Plain HTTP on 127.0.0.1,
 * AWS's query protocol (form-encoded POST with `Action` and `Version=2011-06-15`), answers and errors
 * in STS's XML and wording, decided over one `AwsWorld`:
 *
 * - `AssumeRoleWithWebIdentity` (unsigned), checked in AWS's order: the parameters; a token that is not
 *   a JWT; an OIDC provider in the role's account whose URL is the token's `iss` (exact string); the
 *   audience among the provider's client IDs; the RS256 signature against the keys the issuer
 *   publishes (`world.issuerKeys`, by `kid`); expiry; the role and its trust policy (decided by the
 *   world, i.e. the independent IAM engine); the requested duration against the role's maximum.
 * - `GetCallerIdentity` (signed): the access key ID comes from the SigV4 `Authorization` header (or a
 *   presigned `X-Amz-Credential`), the session token from `X-Amz-Security-Token`. SigV4 signatures are
 *   NOT verified: a key ID and its session token are all the world needs to know the caller.
 *
 * Wording that AWS does not document and that was not found in public error reports (the messages for a
 * malformed token and for a signature that does not verify) is marked below as the closest known form.
 *
 * @see https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
 * @see https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 */
import { createPublicKey, randomUUID, verify, type JsonWebKey } from 'crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'http';
import { listenOnLoopback, readBody } from '../loopback';
import type { AwsWorld, Caller, OidcProviderRecord, RoleRecord } from './world';

/** The STS API version of the query protocol. */
export const STS_VERSION = '2011-06-15';
const XMLNS = `https://sts.amazonaws.com/doc/${STS_VERSION}/`;
const ASSUME_ACTION = 'sts:AssumeRoleWithWebIdentity';
/** STS's bounds on DurationSeconds (the role's own maximum applies on top). */
const MIN_DURATION = 900;
const MAX_DURATION = 43_200;
const DEFAULT_DURATION = 3600;
const SESSION_NAME = /^[\w+=,.@-]*$/;

/** One answered request, for the rehearsal's output and for tests. */
export interface StsLogEntry {
  readonly action: string;
  /** The role asked for (AssumeRoleWithWebIdentity). */
  readonly roleArn?: string;
  readonly sessionName?: string;
  /** The token's `sub` (when it could be read). */
  readonly subject?: string;
  /** The caller's ARN: the new session (AssumeRoleWithWebIdentity) or who asked (GetCallerIdentity). */
  readonly callerArn?: string;
  /** `OK`, or the error code answered. */
  readonly code: string;
  readonly statusCode: number;
  /** The error message answered, if any. */
  readonly message?: string;
}

/** A running local STS. */
export interface LocalSts {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Every answered request, in order. */
  readonly log: readonly StsLogEntry[];
  stop(): Promise<void>;
}

/** Options of `startLocalSts`. */
export interface LocalStsOptions {
  /** The clock for token expiry. @default () => new Date() */
  readonly now?: () => Date;
  /**
   * The caller's address as AWS would see it (`aws:SourceIp` in the trust decision). The server itself
   * only ever sees 127.0.0.1, which stands for no real address.
   * @default - none: a trust policy conditioned on aws:SourceIp does not match
   */
  readonly sourceIp?: string;
}

/** One STS answer before it is sent. */
export interface StsAnswer {
  readonly statusCode: number;
  readonly body: string;
  readonly entry: StsLogEntry;
}

/** An error as STS answers it. */
class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

/** Escapes element text as AWS does: `&`, `<` and `>` only (quotes stay as they are, e.g. `on resource: "arn:..."`). */
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** STS's XML for an error. */
export function stsErrorXml(code: string, message: string, requestId: string, type: 'Sender' | 'Receiver' = 'Sender'): string {
  return (
    `<ErrorResponse xmlns="${XMLNS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${escapeXml(code)}</Code>\n` +
    `    <Message>${escapeXml(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`
  );
}

/** An XML element tree, written as STS indents it. */
type Element = readonly [name: string, content: string | readonly Element[]];
function renderXml([name, content]: Element, depth: number): string {
  const pad = '  '.repeat(depth);
  if (typeof content === 'string') return `${pad}<${name}>${escapeXml(content)}</${name}>\n`;
  return `${pad}<${name}>\n${content.map((child) => renderXml(child, depth + 1)).join('')}${pad}</${name}>\n`;
}
function successXml(action: string, result: readonly Element[], requestId: string): string {
  const body = [renderXml([`${action}Result`, result], 1), renderXml(['ResponseMetadata', [['RequestId', requestId]]], 1)].join('');
  return `<${action}Response xmlns="${XMLNS}">\n${body}</${action}Response>\n`;
}

const validationError = (value: string | undefined, member: string, constraint: string) =>
  new StsError(
    'ValidationError',
    `1 validation error detected: Value ${
      value === undefined ? 'null' : `'${value}'`
    } at '${member}' failed to satisfy constraint: ${constraint}`,
    400,
  );

/** The claims STS reads from a web identity token. */
interface TokenClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly sub: string;
  readonly exp: number;
}

/** A JWT split into its parts, or undefined when it is not one. */
function parseJwt(
  token: string,
): { header: { alg?: string; kid?: string }; claims: Partial<TokenClaims>; signingInput: string; signature: Buffer } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) return undefined;
    return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

/** The provider's URL as a token's `iss` carries it (IAM stores it without the scheme). */
const providerIssuer = (provider: OidcProviderRecord) => (/^https:\/\//.test(provider.url) ? provider.url : `https://${provider.url}`);
const accountOfArn = (arn: string) => arn.split(':')[4] ?? '';

/** The role's account from its ARN, or a ValidationError as STS answers a malformed one. */
function roleAccount(roleArn: string): string {
  const match = /^arn:[a-z-]+:iam::(\d{12}):role\/.+$/.exec(roleArn);
  if (match === null) throw new StsError('ValidationError', 'Request ARN is invalid', 400);
  return match[1];
}

/** The parameter checks STS makes before anything else. */
function checkParameters(form: URLSearchParams): { roleArn: string; sessionName: string; token: string; duration: number } {
  const roleArn = form.get('RoleArn') ?? undefined;
  const sessionName = form.get('RoleSessionName') ?? undefined;
  const token = form.get('WebIdentityToken') ?? undefined;
  const durationText = form.get('DurationSeconds') ?? undefined;
  if (roleArn === undefined) throw validationError(undefined, 'roleArn', 'Member must not be null');
  if (roleArn.length < 20) throw validationError(roleArn, 'roleArn', 'Member must have length greater than or equal to 20');
  if (sessionName === undefined) throw validationError(undefined, 'roleSessionName', 'Member must not be null');
  if (sessionName.length < 2) throw validationError(sessionName, 'roleSessionName', 'Member must have length greater than or equal to 2');
  if (sessionName.length > 64) throw validationError(sessionName, 'roleSessionName', 'Member must have length less than or equal to 64');
  if (!SESSION_NAME.test(sessionName))
    throw validationError(sessionName, 'roleSessionName', 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
  if (token === undefined) throw validationError(undefined, 'webIdentityToken', 'Member must not be null');
  if (token.length < 4) throw validationError(token, 'webIdentityToken', 'Member must have length greater than or equal to 4');
  const duration = durationText === undefined ? DEFAULT_DURATION : Number(durationText);
  if (!Number.isInteger(duration))
    throw new StsError('ValidationError', `Value '${durationText}' for parameter DurationSeconds is invalid.`, 400);
  if (duration < MIN_DURATION)
    throw validationError(durationText, 'durationSeconds', `Member must have value greater than or equal to ${MIN_DURATION}`);
  if (duration > MAX_DURATION)
    throw validationError(durationText, 'durationSeconds', `Member must have value less than or equal to ${MAX_DURATION}`);
  return { roleArn, sessionName, token, duration };
}

/** Whether the issuer's published keys verify the token's RS256 signature (the key chosen by `kid`). */
function signatureVerifies(world: AwsWorld, iss: string, jwt: NonNullable<ReturnType<typeof parseJwt>>): boolean {
  if (jwt.header.alg !== 'RS256') return false;
  const keys = (world.issuerKeys(iss)?.keys ?? []) as (JsonWebKey & { kid?: string })[];
  const candidates = keys.filter((key) => key.kty === 'RSA' && (jwt.header.kid === undefined || key.kid === jwt.header.kid));
  return candidates.some((jwk) => {
    try {
      return verify('RSA-SHA256', Buffer.from(jwt.signingInput), createPublicKey({ key: jwk, format: 'jwk' }), jwt.signature);
    } catch {
      return false;
    }
  });
}

async function assumeRoleWithWebIdentity(
  world: AwsWorld,
  form: URLSearchParams,
  options: LocalStsOptions,
  requestId: string,
): Promise<StsAnswer> {
  const action = 'AssumeRoleWithWebIdentity';
  const attempt: { roleArn?: string; sessionName?: string; subject?: string } = {
    roleArn: form.get('RoleArn') ?? undefined,
    sessionName: form.get('RoleSessionName') ?? undefined,
  };
  try {
    const { roleArn, sessionName, token, duration } = checkParameters(form);
    const account = roleAccount(roleArn);
    const jwt = parseJwt(token);
    const { iss, aud, sub, exp } = jwt?.claims ?? {};
    // Closest known wording: STS answers an unreadable token with InvalidIdentityToken; the exact text is not documented.
    if (jwt === undefined || typeof iss !== 'string')
      throw new StsError('InvalidIdentityToken', "Couldn't parse the web identity token", 400);
    if (typeof sub === 'string') attempt.subject = sub;
    const provider = [...world.oidcProviders.values()].find((p) => accountOfArn(p.arn) === account && providerIssuer(p) === iss);
    if (provider === undefined)
      throw new StsError('InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${iss}`, 400);
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    const audience = audiences.find((a) => provider.clientIds.includes(a));
    if (audience === undefined) throw new StsError('InvalidIdentityToken', 'Incorrect token audience', 400);
    // Closest known wording (the exact text for a bad signature is not documented).
    if (!signatureVerifies(world, iss, jwt))
      throw new StsError('InvalidIdentityToken', 'The signature of the web identity token could not be verified', 400);
    const now = Math.floor((options.now ?? (() => new Date()))().getTime() / 1000);
    if (typeof exp !== 'number' || now >= exp) {
      throw new StsError(
        'ExpiredTokenException',
        `Token expired: current date/time ${now} must be before the expiration date/time ${String(exp)}`,
        400,
      );
    }
    const role: RoleRecord | undefined = world.roles.get(roleArn);
    const denied = new StsError('AccessDenied', `Not authorized to perform ${ASSUME_ACTION}`, 403);
    if (role === undefined || typeof sub !== 'string') throw denied;
    const decision = await world.decideAssumeRoleWithWebIdentity(role, { iss, aud: audience, sub }, options.sourceIp);
    if (!decision.allowed) throw denied;
    if (duration > role.maxSessionDuration) {
      throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', 400);
    }
    const { credentials, caller } = world.startRoleSession(role, sessionName, duration);
    const expiration = credentials.expiration ?? new Date((now + duration) * 1000);
    const result: Element[] = [
      [
        'Credentials',
        [
          ['AccessKeyId', credentials.accessKeyId],
          ['SecretAccessKey', credentials.secretAccessKey],
          ['SessionToken', credentials.sessionToken ?? ''],
          ['Expiration', expiration.toISOString().replace(/\.\d{3}Z$/, 'Z')],
        ],
      ],
      ['SubjectFromWebIdentityToken', sub],
      [
        'AssumedRoleUser',
        [
          ['AssumedRoleId', caller.userId],
          ['Arn', caller.arn],
        ],
      ],
      ['Provider', provider.arn],
      ['Audience', audience],
    ];
    return {
      statusCode: 200,
      body: successXml(action, result, requestId),
      entry: { action, ...attempt, callerArn: caller.arn, code: 'OK', statusCode: 200 },
    };
  } catch (error) {
    return errorAnswer(action, error, requestId, attempt);
  }
}

/** The access key ID and session token a signed request carries (header or presigned query). */
function signedBy(headers: IncomingMessage['headers'], form: URLSearchParams): { accessKeyId: string; sessionToken?: string } | undefined {
  const authorization = typeof headers.authorization === 'string' ? headers.authorization : '';
  const fromHeader = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  const accessKeyId = fromHeader ?? form.get('X-Amz-Credential')?.split('/')[0];
  if (accessKeyId === undefined || accessKeyId === '') return undefined;
  const headerToken = headers['x-amz-security-token'];
  const sessionToken = (typeof headerToken === 'string' ? headerToken : undefined) ?? form.get('X-Amz-Security-Token') ?? undefined;
  return { accessKeyId, ...(sessionToken === undefined ? {} : { sessionToken }) };
}

function getCallerIdentity(world: AwsWorld, headers: IncomingMessage['headers'], form: URLSearchParams, requestId: string): StsAnswer {
  const action = 'GetCallerIdentity';
  try {
    const signer = signedBy(headers, form);
    if (signer === undefined) throw new StsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    const caller: Caller = world.caller(signer.accessKeyId, signer.sessionToken, 'STS'); // throws STS's credential errors
    const result: Element[] = [
      ['Arn', caller.arn],
      ['UserId', caller.userId],
      ['Account', caller.accountId],
    ];
    return {
      statusCode: 200,
      body: successXml(action, result, requestId),
      entry: { action, callerArn: caller.arn, code: 'OK', statusCode: 200 },
    };
  } catch (error) {
    return errorAnswer(action, error, requestId, {});
  }
}

function errorAnswer(action: string, error: unknown, requestId: string, attempt: Partial<StsLogEntry>): StsAnswer {
  const known =
    error instanceof StsError
      ? error
      : typeof (error as { code?: unknown }).code === 'string' && typeof (error as { statusCode?: unknown }).statusCode === 'number'
        ? new StsError((error as { code: string }).code, (error as Error).message, (error as { statusCode: number }).statusCode)
        : undefined;
  if (known === undefined) throw error; // a bug of the rehearsal, not an AWS answer: let the server report it
  return {
    statusCode: known.statusCode,
    body: stsErrorXml(known.code, known.message, requestId, known.type),
    entry: { action, ...attempt, code: known.code, statusCode: known.statusCode, message: known.message },
  };
}

/**
 * Answers one STS request (query parameters and form body merged, as STS reads them). Exposed for
 * tests; the server calls it for every request.
 */
export async function answerSts(
  world: AwsWorld,
  request: { readonly method: string; readonly url: string; readonly headers: IncomingMessage['headers']; readonly body: string },
  options: LocalStsOptions = {},
): Promise<StsAnswer> {
  const requestId = randomUUID();
  const form = new URLSearchParams(new URL(request.url, 'http://127.0.0.1').search);
  const contentType = typeof request.headers['content-type'] === 'string' ? request.headers['content-type'] : '';
  if (request.method === 'POST' && (contentType === '' || contentType.startsWith('application/x-www-form-urlencoded'))) {
    for (const [name, value] of new URLSearchParams(request.body)) form.append(name, value);
  }
  const action = form.get('Action') ?? '';
  const version = form.get('Version');
  const fail = (code: string, message: string, statusCode: number): StsAnswer => ({
    statusCode,
    body: stsErrorXml(code, message, requestId),
    entry: { action, code, statusCode, message },
  });
  if (action === '') return fail('MissingAction', 'Missing Action', 400);
  if (version !== STS_VERSION) {
    return version === null
      ? fail('MissingParameter', 'The request must contain the parameter Version', 400)
      : fail('InvalidAction', `Could not find operation ${action} for version ${version}`, 400);
  }
  if (action === 'AssumeRoleWithWebIdentity') return assumeRoleWithWebIdentity(world, form, options, requestId);
  if (action === 'GetCallerIdentity') return getCallerIdentity(world, request.headers, form, requestId);
  return fail('InvalidAction', `Could not find operation ${action} for version ${STS_VERSION}`, 400);
}

/** Starts the local STS on 127.0.0.1, on a free port. */
export async function startLocalSts(world: AwsWorld, options: LocalStsOptions = {}): Promise<LocalSts> {
  const log: StsLogEntry[] = [];
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    try {
      const answer = await answerSts(
        world,
        { method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, body: await readBody(request) },
        options,
      );
      log.push(answer.entry);
      const requestId = /<RequestId>([^<]+)</.exec(answer.body)?.[1] ?? randomUUID();
      response.writeHead(answer.statusCode, {
        'content-type': 'text/xml',
        'x-amzn-requestid': requestId,
        'content-length': Buffer.byteLength(answer.body),
      });
      response.end(answer.body);
    } catch (error) {
      const requestId = randomUUID();
      const message = error instanceof Error ? error.message : String(error);
      log.push({ action: 'unknown', code: 'InternalFailure', statusCode: 500, message });
      const body = stsErrorXml('InternalFailure', `The rehearsal's STS failed: ${message}`, requestId, 'Receiver');
      response.writeHead(500, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      response.end(body);
    }
  };
  const server = createServer((request, response) => void handle(request, response));
  const { endpoint, stop } = await listenOnLoopback(server);
  return { endpoint, log, stop };
}
