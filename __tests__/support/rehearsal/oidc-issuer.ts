/**
 * A stand-in for the workspace's Bitbucket OIDC issuer: an RS256 key of its own, the JWKS it
 * publishes (registered with the local AWS, which AWS would fetch from `<issuer>/keys.json`), and the
 * token Bitbucket puts in `BITBUCKET_STEP_OIDC_TOKEN` for a step with `oidc: true`: the claims of
 * `bitbucketClaims` (`src/bitbucket/token.ts`) for that step's repository, step, pipeline, branch and,
 * in a deployment step, environment. node:crypto only (jose is ESM-only and Jest cannot require it).
 */
import { createPrivateKey, generateKeyPairSync, KeyObject, randomUUID, sign } from 'crypto';
import { bitbucketClaims, BitbucketTokenClaims, ClaimsOptions } from '../../../src/bitbucket/token';

/** What the issuer publishes: `{ keys: [<public JWK>] }`. */
export interface Jwks {
  readonly keys: readonly Record<string, unknown>[];
}

/** The step a token is for, as the runner knows it (UUIDs without braces or with them). */
export interface TokenRequest {
  readonly repositoryUuid: string;
  readonly stepUuid: string;
  readonly pipelineUuid: string;
  readonly branchName?: string;
  /** The deployment environment's UUID, in a deployment step only. */
  readonly environmentUuid?: string;
}

/** An issuer for one workspace. */
export interface OidcIssuer {
  readonly url: string;
  readonly jwks: Jwks;
  /** A signed token for the step, issued now, valid one hour (Bitbucket's lifetime). */
  tokenFor(step: TokenRequest, overrides?: Partial<BitbucketTokenClaims>): string;
  /** Signs any claims with the issuer's key (for forged or altered tokens in tests). */
  sign(claims: Readonly<Record<string, unknown>>): string;
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
const unbraced = (uuid: string): string => uuid.replace(/^\{|\}$/g, '');

/** Signs `claims` as a compact RS256 JWS with `kid` in the header. */
export function signJwt(claims: Readonly<Record<string, unknown>>, key: KeyObject, kid: string): string {
  const header = base64url(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' }));
  const payload = base64url(JSON.stringify(claims));
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), key);
  return `${header}.${payload}.${base64url(signature)}`;
}

/** Makes the issuer of `workspace` with a fresh 2048-bit RSA key. */
export function startOidcIssuer(workspace: string, workspaceUuid: string, now: () => Date = () => new Date()): OidcIssuer {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const key = createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'RS256', use: 'sig' };
  const claimsFor = (step: TokenRequest): BitbucketTokenClaims => {
    const options: ClaimsOptions = {
      workspace,
      workspaceUuid: unbraced(workspaceUuid),
      repositoryUuid: unbraced(step.repositoryUuid),
      stepUuid: unbraced(step.stepUuid),
      pipelineUuid: unbraced(step.pipelineUuid),
      issuedAt: Math.floor(now().getTime() / 1000),
      ...(step.branchName === undefined ? {} : { branchName: step.branchName }),
      ...(step.environmentUuid === undefined ? {} : { environmentUuid: unbraced(step.environmentUuid) }),
    };
    return bitbucketClaims(options);
  };
  const issuer: OidcIssuer = {
    url: claimsFor({ repositoryUuid: '0', stepUuid: '0', pipelineUuid: '0' }).iss,
    jwks: { keys: [jwk] },
    sign: (claims) => signJwt(claims, key, kid),
    tokenFor: (step, overrides = {}) => issuer.sign({ ...claimsFor(step), ...overrides }),
  };
  return issuer;
}
