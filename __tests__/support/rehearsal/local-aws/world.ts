/**
 * The in-memory AWS of the pipeline rehearsal: accounts with an administrator user, role sessions,
 * IAM roles, managed policies and OIDC providers, KMS keys and S3 bucket metadata, and every
 * authorization decision. It stands in for IAM's and STS's view of the accounts; the local STS, S3
 * and the provider API (`sts.ts`, `s3.ts`, `provider-api.ts`) all share one world.
 *
 * Decisions are made by the independent engine `@cloud-copilot/iam-simulate` (AGPL, test-only)
 * through `support/simulate-permissions.ts`, with KMS's S3 encryption-context key renamed by
 * `support/kms-context-adapter.ts` and trust policies decided through `support/iam-simulate-adapter.ts`.
 * Nothing here guesses: a decision that needs an AWS-managed policy (which only AWS can read) throws.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { createHash, randomBytes } from 'crypto';
import type { RequestAnalysis } from '@cloud-copilot/iam-simulate';
import { assumeRoleRequest } from '../../../../src/bitbucket/token';
import type { PolicyDocument } from '../../../../src/iam/policy';
import { simulateAssumeRole } from '../../iam-simulate-adapter';
import { adaptPrincipal, adaptRequest } from '../../kms-context-adapter';
import { decide } from '../../simulate-permissions';

/** An AWS error as the service answers it. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = 'AwsError';
  }
}

/** Access keys, as STS or IAM hands them out. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Who is calling, resolved from an access key ID (+ session token). */
export interface Caller {
  readonly accountId: string;
  /** `arn:aws:iam::<acct>:user/administrator` or `arn:aws:sts::<acct>:assumed-role/<name>/<session>` */
  readonly arn: string;
  /** IAM unique ID (AIDA.. for users, `AROA..:<session>` for role sessions): GetCallerIdentity's UserId. */
  readonly userId: string;
  /** The role's ARN for a role session (with its path), undefined for the administrator. */
  readonly roleArn?: string;
}

/** An IAM role. */
export interface RoleRecord {
  readonly accountId: string;
  readonly name: string;
  readonly path: string;
  readonly arn: string;
  readonly uniqueId: string;
  assumeRolePolicy: PolicyDocument;
  permissionsBoundary?: string;
  maxSessionDuration: number;
  description?: string;
  tags: Record<string, string>;
  inlinePolicies: Map<string, PolicyDocument>;
  attachedPolicyArns: Set<string>;
}

/** An IAM OIDC identity provider. `url` is kept as AWS compares it with a token's `iss`: `https://<host and path>`. */
export interface OidcProviderRecord {
  readonly arn: string;
  readonly url: string;
  clientIds: string[];
  thumbprints: string[];
  tags: Record<string, string>;
}

/** A customer-managed policy (its default version). */
export interface ManagedPolicyRecord {
  readonly arn: string;
  readonly name: string;
  readonly path: string;
  document: PolicyDocument;
}

/** A KMS key and its key policy. */
export interface KmsKeyRecord {
  readonly arn: string;
  readonly keyId: string;
  readonly accountId: string;
  readonly region: string;
  policy: PolicyDocument;
}

/** A KMS alias (`alias/<name>`), keyed in the world by its ARN. */
export interface KmsAliasRecord {
  readonly arn: string;
  readonly name: string;
  targetKeyArn: string;
}

/** An S3 bucket's metadata (its objects live in the local S3). */
export interface BucketRecord {
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  policy?: PolicyDocument;
  /** Default encryption: AES256 (SSE-S3) or aws:kms with the key's ARN. */
  encryption?: {
    readonly algorithm: 'AES256' | 'aws:kms';
    readonly kmsKeyArn?: string;
    /** S3 Bucket Keys: KMS then sees the bucket's ARN as encryption context, not the object's. @default false */
    readonly bucketKey?: boolean;
  };
  versioning: boolean;
  publicAccessBlocked: boolean;
  /** Object ownership setting (`BucketOwnerEnforced`, ...), when the bucket has ownership controls. */
  objectOwnership?: string;
  /** Lifecycle rules as Terraform holds them, when the bucket has a lifecycle configuration. */
  lifecycleRules?: readonly object[];
}

/** One request to decide: who, what, on what, with which context keys. */
export interface AccessRequest {
  /** e.g. `s3:PutObject` */
  readonly action: string;
  /** ARN, or `*` for actions without a resource (kms:CreateKey). */
  readonly resource: string;
  /** Owner of the resource (S3 ARNs carry none). */
  readonly resourceAccount: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

/** The engine's answer, worded as AWS words it. */
export interface AccessDecision {
  readonly allowed: boolean;
  /** 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied' */
  readonly result: string;
  /**
   * AWS's wording, e.g. `User: arn:aws:sts::1111:assumed-role/x/y is not authorized to perform: iam:TagRole on resource:
   * arn:... because no identity-based policy allows the iam:TagRole action` (empty when allowed).
   */
  readonly message: string;
}

/** One decision, for the rehearsal's summary and for tests. */
export interface DecisionRecord {
  readonly caller: string;
  readonly action: string;
  readonly resource: string;
  readonly allowed: boolean;
}

/** The service whose wording an invalid credential is answered in. */
export type CredentialService = 'S3' | 'STS' | 'IAM' | 'KMS';

interface KeyEntry {
  readonly secretAccessKey: string;
  readonly caller: Caller;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

const ALLOW_EVERYTHING: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'AdministratorAccess', Effect: 'Allow', Action: '*', Resource: '*' }],
};
const ADMINISTRATOR = 'administrator';

/** Bucket listeners: the local S3 creates or removes the bucket in its store. */
type BucketListener = (bucket: BucketRecord) => Promise<void> | void;

/** The in-memory AWS. */
export class AwsWorld {
  readonly partition: string;
  readonly roles = new Map<string, RoleRecord>();
  readonly oidcProviders = new Map<string, OidcProviderRecord>();
  readonly managedPolicies = new Map<string, ManagedPolicyRecord>();
  readonly kmsKeys = new Map<string, KmsKeyRecord>();
  readonly kmsAliases = new Map<string, KmsAliasRecord>();
  readonly buckets = new Map<string, BucketRecord>();
  private readonly log: DecisionRecord[] = [];
  private readonly now: () => Date;
  private readonly keys = new Map<string, KeyEntry>();
  private readonly accounts = new Map<string, Credentials>();
  private readonly issuers = new Map<string, { keys: object[] }>();
  private readonly created: BucketListener[] = [];
  private readonly deleted: BucketListener[] = [];

  constructor(options: { partition?: string; now?: () => Date } = {}) {
    this.partition = options.partition ?? 'aws';
    this.now = options.now ?? (() => new Date());
  }

  /** Every decision made (for the rehearsal's summary and for tests), in order. */
  get decisions(): readonly DecisionRecord[] {
    return this.log;
  }

  /** The account an access key belongs to, whether or not it is still valid (STS's GetAccessKeyInfo). */
  accessKeyAccount(accessKeyId: string): string | undefined {
    return this.keys.get(accessKeyId)?.caller.accountId;
  }

  /** Adds an account with an administrator user (identity policy Allow * on *), returns its static keys (AKIA...). Idempotent. */
  addAccount(accountId: string): Credentials {
    const known = this.accounts.get(accountId);
    if (known !== undefined) return known;
    if (!/^\d{12}$/.test(accountId)) throw new Error(`account ID "${accountId}" must be 12 digits, e.g. 111122223333`);
    const credentials = { accessKeyId: `AKIA${keyId(16)}`, secretAccessKey: secret() };
    const caller: Caller = {
      accountId,
      arn: `arn:${this.partition}:iam::${accountId}:user/${ADMINISTRATOR}`,
      userId: `AIDA${stableId(accountId, 17)}`,
    };
    this.keys.set(credentials.accessKeyId, { secretAccessKey: credentials.secretAccessKey, caller });
    this.accounts.set(accountId, credentials);
    return credentials;
  }

  /**
   * Resolves credentials, or throws as `service` answers: an unknown key is S3's `InvalidAccessKeyId`
   * (403) or the others' `InvalidClientTokenId` (403); a wrong session token S3's `InvalidToken` (400)
   * or `InvalidClientTokenId`; an expired session `ExpiredToken` (S3: 400, the others: 403).
   */
  caller(accessKeyId: string, sessionToken?: string, service: CredentialService = 'S3'): Caller {
    const s3 = service === 'S3';
    const entry = this.keys.get(accessKeyId);
    if (entry === undefined) {
      throw s3
        ? new AwsError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403)
        : new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    }
    if ((entry.sessionToken ?? undefined) !== (sessionToken || undefined)) {
      throw s3
        ? new AwsError('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400)
        : new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    }
    if (entry.expiration !== undefined && entry.expiration.getTime() <= this.now().getTime()) {
      throw s3
        ? new AwsError('ExpiredToken', 'The provided token has expired.', 400)
        : new AwsError('ExpiredToken', 'The security token included in the request is expired', 403);
    }
    return entry.caller;
  }

  /** A role session's credentials (STS calls it after the trust decision). */
  startRoleSession(role: RoleRecord, sessionName: string, durationSeconds: number): { credentials: Credentials; caller: Caller } {
    const credentials: Credentials = {
      accessKeyId: `ASIA${keyId(16)}`,
      secretAccessKey: secret(),
      sessionToken: randomBytes(96).toString('base64'),
      expiration: new Date(this.now().getTime() + durationSeconds * 1000),
    };
    const caller: Caller = {
      accountId: role.accountId,
      arn: `arn:${this.partition}:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`,
      userId: `${role.uniqueId}:${sessionName}`,
      roleArn: role.arn,
    };
    this.keys.set(credentials.accessKeyId, {
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      expiration: credentials.expiration,
      caller,
    });
    return { credentials, caller };
  }

  /** What the issuer of `issuerUrl` publishes (AWS fetches it from the issuer; here it is registered). */
  registerIssuerKeys(issuerUrl: string, jwks: { keys: object[] }): void {
    this.issuers.set(issuerUrl, jwks);
  }

  issuerKeys(issuerUrl: string): { keys: object[] } | undefined {
    return this.issuers.get(issuerUrl);
  }

  /** A role of an account by its name (role names are unique in an account, whatever the path). */
  roleByName(accountId: string, name: string): RoleRecord | undefined {
    return [...this.roles.values()].find((role) => role.accountId === accountId && role.name === name);
  }

  /** A new role's unique ID (AROA...), stable for one account and name. */
  roleUniqueId(accountId: string, name: string): string {
    return `AROA${stableId(`${accountId}/${name}`, 17)}`;
  }

  /** Listeners the S3 server uses to create the bucket in its store when the provider creates one. */
  onBucketCreated(listener: BucketListener): void {
    this.created.push(listener);
  }

  /** Listeners the S3 server uses to remove the bucket from its store when the provider deletes one. */
  onBucketDeleted(listener: BucketListener): void {
    this.deleted.push(listener);
  }

  /** Records a new bucket and tells the listeners. */
  async addBucket(bucket: BucketRecord): Promise<void> {
    this.buckets.set(bucket.name, bucket);
    for (const listener of this.created) await listener(bucket);
  }

  /** Forgets a bucket and tells the listeners. */
  async removeBucket(name: string): Promise<void> {
    const bucket = this.buckets.get(name);
    if (bucket === undefined) return;
    this.buckets.delete(name);
    for (const listener of this.deleted) await listener(bucket);
  }

  /**
   * Decides an identity-based request with iam-simulate: the caller's identity policies (inline +
   * attached customer-managed; an AWS-managed policy makes the decision throw, naming it), its
   * permissions boundary, and `resourcePolicy` (bucket policy, key policy) with AWS's same-account /
   * cross-account rules. The world adds the keys AWS always sets: `aws:PrincipalArn` (the role's ARN,
   * path included) and `aws:PrincipalAccount`.
   */
  async authorize(caller: Caller, request: AccessRequest, resourcePolicy?: PolicyDocument): Promise<AccessDecision> {
    const what = `${request.action} on ${request.resource}`;
    const { identityPolicies, boundary } = this.policiesOf(caller, what);
    const verdict = await decide(
      adaptPrincipal({ arn: caller.arn, accountId: caller.accountId, identityPolicies, ...(boundary === undefined ? {} : { boundary }) }),
      adaptRequest({
        action: request.action,
        resource: request.resource,
        resourceAccount: request.resourceAccount,
        context: { 'aws:PrincipalArn': caller.roleArn ?? caller.arn, 'aws:PrincipalAccount': caller.accountId, ...request.context },
        ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
      }),
    );
    const allowed = verdict.decision === 'ALLOW';
    this.log.push({ caller: caller.arn, action: request.action, resource: request.resource, allowed });
    const message = allowed ? '' : deniedMessage(caller.arn, request, verdict.analysis);
    return { allowed, result: verdict.result, message };
  }

  /**
   * Decides AssumeRoleWithWebIdentity against the role's trust policy (iam-simulate through
   * `simulateAssumeRole`). The federated principal is the OIDC provider of the token's issuer in the
   * role's account; the decision is recorded with the token's `sub` as the caller.
   */
  async decideAssumeRoleWithWebIdentity(
    role: RoleRecord,
    claims: { iss: string; aud: string; sub: string },
    sourceIp?: string,
  ): Promise<AccessDecision> {
    const request = assumeRoleRequest(claims, {
      partition: this.partition,
      accountId: role.accountId,
      ...(sourceIp === undefined ? {} : { sourceIp }),
    });
    const verdict = await simulateAssumeRole(role.assumeRolePolicy, request, {
      accountId: role.accountId,
      name: role.name,
      path: role.path,
      partition: this.partition,
    });
    const allowed = verdict.decision === 'ALLOW';
    this.log.push({ caller: claims.sub, action: request.action, resource: role.arn, allowed });
    return { allowed, result: verdict.overallResult, message: allowed ? '' : `Not authorized to perform ${request.action}` };
  }

  /** The caller's identity policies and boundary, as IAM holds them now. */
  private policiesOf(caller: Caller, what: string): { identityPolicies: PolicyDocument[]; boundary?: PolicyDocument } {
    if (caller.roleArn === undefined) return { identityPolicies: [ALLOW_EVERYTHING] };
    const role = this.roles.get(caller.roleArn);
    // A session outlives a deleted role, but nothing allows it anything any more.
    if (role === undefined) return { identityPolicies: [] };
    const managed = (arn: string, as: string) => {
      if (/^arn:[^:]+:iam::aws:policy\//.test(arn)) {
        throw new Error(`cannot decide ${what} for ${caller.arn}: its ${as} ${arn} is an AWS-managed policy, which only AWS can read`);
      }
      const policy = this.managedPolicies.get(arn);
      if (policy === undefined) throw new Error(`cannot decide ${what} for ${caller.arn}: its ${as} ${arn} does not exist in the world`);
      return policy.document;
    };
    const identityPolicies = [
      ...role.inlinePolicies.values(),
      ...[...role.attachedPolicyArns].map((arn) => managed(arn, 'attached policy')),
    ];
    return role.permissionsBoundary === undefined
      ? { identityPolicies }
      : { identityPolicies, boundary: managed(role.permissionsBoundary, 'permissions boundary') };
  }
}

/**
 * AWS's AccessDenied error for a denied decision: `AccessDenied` (403) for IAM, S3 and STS,
 * `AccessDeniedException` (400) for KMS.
 */
export function accessDenied(decision: AccessDecision, action: string): AwsError {
  return action.toLowerCase().startsWith('kms:')
    ? new AwsError('AccessDeniedException', decision.message, 400)
    : new AwsError('AccessDenied', decision.message, 403);
}

/**
 * AWS's wording of a denial, with the reason the engine's analysis gives: an explicit deny in one
 * policy type, or no policy of a type that must allow. S3 quotes the resource; IAM and KMS do not.
 */
function deniedMessage(principal: string, request: AccessRequest, analysis: RequestAnalysis | undefined): string {
  const resource = request.action.toLowerCase().startsWith('s3:') ? `"${request.resource}"` : request.resource;
  const head = `User: ${principal} is not authorized to perform: ${request.action} on resource: ${resource}`;
  if (analysis === undefined) return head;
  const explicit = (
    [
      ['an identity-based policy', analysis.identityAnalysis?.result],
      ['a resource-based policy', analysis.resourceAnalysis?.result],
      ['a permissions boundary', analysis.permissionBoundaryAnalysis?.result],
    ] as const
  ).find(([, result]) => result === 'ExplicitlyDenied');
  if (explicit !== undefined) return `${head} with an explicit deny in ${explicit[0]}`;
  const because = (type: string) => `${head} because no ${type} allows the ${request.action} action`;
  const resourceAllowsPrincipal = analysis.sameAccount && analysis.resourceAnalysis?.result === 'Allowed';
  if (analysis.identityAnalysis?.result !== 'Allowed' && !resourceAllowsPrincipal) return because('identity-based policy');
  const boundary = analysis.permissionBoundaryAnalysis?.result;
  if (boundary !== undefined && boundary !== 'Allowed') return because('permissions boundary');
  return because('resource-based policy');
}

/** Upper-case letters and digits, as AWS's key IDs. */
function keyId(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

function secret(): string {
  return randomBytes(30).toString('base64');
}

/** A deterministic ID part (unique IDs stay stable across a rehearsal's runs). */
function stableId(seed: string, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...createHash('sha256').update(seed).digest()]
    .slice(0, length)
    .map((b) => alphabet[b % alphabet.length])
    .join('');
}
