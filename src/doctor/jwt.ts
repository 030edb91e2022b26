/**
 * Decoding a step's OIDC token (a compact JWS) without trusting it, and verifying its RS256 signature
 * against the issuer's published keys (JWKS) on request. Nothing here prints or returns the raw token.
 *
 * @see https://support.atlassian.com/bitbucket-cloud/docs/integrate-pipelines-with-resource-servers-using-oidc/
 */
import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, JSONWebKeySet } from 'jose';
import { BitbucketTokenClaims } from '../bitbucket/token';
import { UnusableInputError } from './errors';

/** The algorithm Bitbucket Pipelines signs tokens with. */
export const BITBUCKET_TOKEN_ALGORITHM = 'RS256';

/** The JOSE header fields the doctor reports. */
export interface TokenHeader {
  readonly alg?: string;
  readonly kid?: string;
  readonly typ?: string;
}

/** A token read into its header and claims; `compact` is kept for verification only, never shown. */
export interface DecodedToken {
  readonly header: TokenHeader;
  readonly claims: BitbucketTokenClaims;
  readonly compact: string;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const PART_NAMES = ['header', 'payload', 'signature'] as const;

/**
 * Decodes a compact JWT without verifying it. `source` names where the token came from, for messages
 * (`--token-file "t.jwt"`). Throws `UnusableInputError` naming the part or claim that is wrong.
 */
export function decodeToken(text: string, source: string): DecodedToken {
  // A token pasted from an HTTP header or a file written by `echo` carries a prefix or a newline.
  const compact = text.trim().replace(/^Bearer\s+/i, '');
  if (compact === '') {
    throw new UnusableInputError(`the token from ${source} is empty; BITBUCKET_STEP_OIDC_TOKEN is only set in steps with "oidc: true"`);
  }
  if (compact.includes('$')) {
    throw new UnusableInputError(
      `the token from ${source} contains "$": it looks like an unexpanded shell variable, not a JWT (write it with printf '%s' "$BITBUCKET_STEP_OIDC_TOKEN" > file)`,
    );
  }
  const parts = compact.split('.');
  if (parts.length !== 3) {
    const what = parts.length === 5 ? ' (an encrypted JWE; Bitbucket issues signed JWTs)' : '';
    throw new UnusableInputError(
      `the token from ${source} is not a JWT: it must be three base64url parts separated by ".", and it has ${parts.length}${what}`,
    );
  }
  parts.forEach((part, i) => {
    if (part === '' || !BASE64URL.test(part)) {
      throw new UnusableInputError(
        `the token from ${source} is not a JWT: its ${PART_NAMES[i]} (part ${i + 1}) must be non-empty base64url (A-Z a-z 0-9 - _)`,
      );
    }
  });

  let header: TokenHeader;
  try {
    const { alg, kid, typ } = decodeProtectedHeader(compact);
    header = { ...(alg === undefined ? {} : { alg }), ...(kid === undefined ? {} : { kid }), ...(typ === undefined ? {} : { typ }) };
  } catch {
    throw new UnusableInputError(`the token from ${source} is not a JWT: its header (part 1) must be base64url-encoded JSON`);
  }
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(compact);
  } catch {
    throw new UnusableInputError(`the token from ${source} is not a JWT: its payload (part 2) must be a base64url-encoded JSON object`);
  }
  return { header, claims: readClaims(payload, source), compact };
}

/** Checks the claims every Bitbucket Pipelines token carries, naming the first one that is wrong. */
function readClaims(payload: Record<string, unknown>, source: string): BitbucketTokenClaims {
  const wrong = (claim: string, rule: string): UnusableInputError =>
    new UnusableInputError(
      `the token from ${source} is not a Bitbucket Pipelines token: claim "${claim}" is ${describe(payload[claim])}, and it must be ${rule}`,
    );
  const { iss, aud, sub } = payload;
  if (typeof iss !== 'string' || iss === '')
    throw wrong('iss', 'the issuer URL, e.g. https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc');
  if (typeof sub !== 'string' || sub === '') throw wrong('sub', 'a string such as {REPOSITORY_UUID}:{STEP_UUID}');
  const audOk =
    (typeof aud === 'string' && aud !== '') || (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string'));
  if (!audOk) throw wrong('aud', 'a string or a list of strings, e.g. ari:cloud:bitbucket::workspace/<uuid>');
  for (const claim of ['exp', 'iat', 'nbf']) {
    const value = payload[claim];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) throw wrong(claim, 'a number of seconds since 1970');
  }
  return { ...payload, iss, sub, aud: aud as string | string[] };
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The part of the WHATWG `fetch` the doctor uses (injectable for tests). */
export type FetchLike = (
  url: string,
  init: { readonly signal: AbortSignal; readonly headers: Record<string, string> },
) => Promise<{ readonly ok: boolean; readonly status: number; readonly statusText: string; json(): Promise<unknown> }>;

/** How long one HTTP request of the doctor may take. */
export const FETCH_TIMEOUT_MS = 10_000;

/** GETs a JSON document; throws `UnusableInputError` saying what `what` is and how it failed. */
async function getJson(fetch: FetchLike, url: string, what: string): Promise<unknown> {
  let response: Awaited<ReturnType<FetchLike>>;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new UnusableInputError(`cannot fetch the ${what} from ${url} (${cause}); pass --jwks-url to use another address`);
  }
  if (!response.ok) {
    throw new UnusableInputError(`cannot fetch the ${what} from ${url}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  try {
    return await response.json();
  } catch {
    throw new UnusableInputError(`the ${what} at ${url} is not JSON`);
  }
}

/** Where the keys were found. */
export interface JwksLocation {
  readonly url: string;
  /** `discovery` (the issuer's openid-configuration), `keys.json` (its fallback) or `--jwks-url`. */
  readonly via: 'discovery' | 'keys.json' | '--jwks-url';
  /** Why discovery was not used, when `via` is `keys.json`. */
  readonly discoveryFailure?: string;
}

/**
 * Finds the JWKS of an issuer the way an OIDC relying party (AWS included) does: the `jwks_uri` of
 * `<issuer>/.well-known/openid-configuration`; when discovery fails, Bitbucket's documented
 * `<issuer>/keys.json`. Throws `UnusableInputError` when neither answers.
 */
export async function discoverJwks(issuerUrl: string, fetch: FetchLike): Promise<JwksLocation> {
  const discoveryUrl = `${issuerUrl}/.well-known/openid-configuration`;
  let discoveryFailure: string;
  try {
    const document = await getJson(fetch, discoveryUrl, 'OpenID configuration');
    const jwksUri = (document as { jwks_uri?: unknown } | null)?.jwks_uri;
    if (typeof jwksUri === 'string' && /^https?:\/\//.test(jwksUri)) return { url: jwksUri, via: 'discovery' };
    discoveryFailure = `the OpenID configuration at ${discoveryUrl} has no http(s) "jwks_uri"`;
  } catch (error) {
    if (!(error instanceof UnusableInputError)) throw error;
    discoveryFailure = error.message;
  }
  return { url: `${issuerUrl}/keys.json`, via: 'keys.json', discoveryFailure };
}

/** The outcome of a signature check that could be made. */
export interface SignatureCheck {
  /** `valid`: a key of the JWKS signed the token with RS256; `invalid`: no key did. */
  readonly status: 'valid' | 'invalid';
  readonly jwks: JwksLocation;
  /** One line: which key verified it, or why none did. */
  readonly detail: string;
}

/**
 * Verifies the token's signature (RS256 only, as Bitbucket signs) against the JWKS at `jwks.url`.
 * A signature that does not verify is `invalid` (AWS would refuse the token); a JWKS that cannot be
 * fetched or read throws `UnusableInputError` (nothing can be concluded).
 */
export async function verifySignature(token: DecodedToken, jwks: JwksLocation, fetch: FetchLike): Promise<SignatureCheck> {
  let document: unknown;
  try {
    document = await getJson(fetch, jwks.url, 'JWKS');
  } catch (error) {
    if (error instanceof UnusableInputError && jwks.discoveryFailure !== undefined) {
      throw new UnusableInputError(`${error.message} (tried after: ${jwks.discoveryFailure})`);
    }
    throw error;
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) {
    throw new UnusableInputError(
      `the JWKS at ${jwks.url} must be a JSON object with a "keys" list, and it has ${keys === undefined ? 'none' : JSON.stringify(typeof keys)}`,
    );
  }
  let keySet: ReturnType<typeof createLocalJWKSet>;
  try {
    keySet = createLocalJWKSet(document as JSONWebKeySet);
  } catch (error) {
    throw new UnusableInputError(`the JWKS at ${jwks.url} is not a valid JSON Web Key Set (${(error as Error).message})`);
  }
  const kid = token.header.kid === undefined ? 'without a key ID (kid)' : `kid "${token.header.kid}"`;
  try {
    await compactVerify(token.compact, keySet, { algorithms: [BITBUCKET_TOKEN_ALGORITHM] });
    return { status: 'valid', jwks, detail: `signed with RS256 by key ${kid} of ${jwks.url}` };
  } catch (error) {
    const code = (error as { code?: string }).code;
    switch (code) {
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        return {
          status: 'invalid',
          jwks,
          detail: `the signature does not match key ${kid} of ${jwks.url}: the token was altered or signed by another key`,
        };
      case 'ERR_JWKS_NO_MATCHING_KEY':
        return {
          status: 'invalid',
          jwks,
          detail: `no key of ${jwks.url} matches the token's ${kid} and RS256: it was not signed by this issuer`,
        };
      case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
        return { status: 'invalid', jwks, detail: `several keys of ${jwks.url} match the token's ${kid} and none verifies it` };
      case 'ERR_JOSE_ALG_NOT_ALLOWED':
        return {
          status: 'invalid',
          jwks,
          detail: `the token is signed with ${JSON.stringify(token.header.alg)}, and it must be RS256 (Bitbucket's algorithm)`,
        };
      default:
        return { status: 'invalid', jwks, detail: `the signature cannot be verified with ${jwks.url}: ${(error as Error).message}` };
    }
  }
}
