/**
 * The configuration a user edits (JSON, read from `BITBUCKET_OIDC_CONFIG`), and the resolved form the
 * stacks are built from (validated, UUIDs normalised, defaults applied).
 */
import { BitbucketIssuer } from '../bitbucket/protocol';
import { PolicyDocument } from '../iam/policy';
import { NamedEnvironment } from './names';

/** The whole configuration file. */
export interface OidcConfig {
  /**
   * Workspace ID (slug) as in `bitbucket.org/<workspace>`, or the issuer URL shown in
   * Repository settings > OpenID Connect.
   * @example 'acme'
   */
  readonly workspace: string;
  /**
   * Workspace UUID (Repository settings > OpenID Connect); braces and upper case are accepted.
   * @default - the lock file's (`npm run resolve` asks Bitbucket for it)
   * @example '{8a1f1c70-0c1e-4f7b-9c53-6f2d2a1b3c4d}'
   */
  readonly workspaceUuid?: string;
  /**
   * Custom audiences configured in Bitbucket, accepted besides the workspace audience.
   * @default []
   */
  readonly audiences?: string[];
  /**
   * OIDC provider thumbprints; AWS no longer needs them for Bitbucket.
   * @default []
   */
  readonly thumbprints?: string[];
  /**
   * Role trust policy size quota of the accounts, in characters without whitespace. Raise it only
   * after AWS raised the quota.
   * @default 2048
   */
  readonly trustPolicyMaxSize?: number;
  /** Default tags of every resource. @default {} */
  readonly tags?: Record<string, string>;
  /** Remote state location. */
  readonly state: StateConfig;
  /**
   * The repository whose pipeline plans and applies the workload stacks: each account's bootstrap
   * stack creates its plan and deploy roles.
   * @default - no pipeline roles: the workload stacks are applied by hand
   */
  readonly pipeline?: PipelineConfig;
  /** One entry per AWS account; each becomes a bootstrap and a workload stack. */
  readonly accounts: AccountConfig[];
}

/** The pipeline that runs this project: its repository and the names of its roles. */
export interface PipelineConfig {
  /** The repository of this project's pipeline, by name (`workspace/slug`) or UUID. */
  readonly repository: RepositoryReference;
  /** @default 'bitbucket-plan' */
  readonly planRoleName?: string;
  /** @default 'bitbucket-deploy' */
  readonly deployRoleName?: string;
  /** IAM path of the pipeline roles, outside every account's workload path. @default '/bitbucket-pipeline/' */
  readonly rolePath?: string;
}

/**
 * A repository by its full name or its UUID (at least one). A name alone is looked up in the lock
 * file that `npm run resolve` writes; with both, they must agree with Bitbucket.
 */
export interface RepositoryReference {
  /** Repository UUID (Repository settings > OpenID Connect); braces and upper case accepted. @default - the lock file's */
  readonly uuid?: string;
  /** Full name, `workspace/slug`. @default - none; findings and the doctor then show the UUID */
  readonly name?: string;
}

/**
 * A deployment environment by its name (Repository settings > Deployments) or its UUID (at least
 * one); as a bare string, a UUID when it looks like one, else a name.
 */
export interface EnvironmentConfig {
  /** @default - the lock file's */
  readonly uuid?: string;
  /** @default - none; findings and the doctor then show the UUID */
  readonly name?: string;
}

/** The account's permissions boundary: created by the bootstrap stack, or an existing policy. */
export type PermissionsBoundaryConfig =
  | {
      /** @default 'bitbucket-workload-boundary' */
      readonly name?: string;
      /** What workload roles may ever be granted. @default ['*'] */
      readonly allowedActions?: string[];
    }
  | {
      /** ARN of an existing customer-managed policy of the account, used instead. */
      readonly arn: string;
    };

/**
 * How the state bucket encrypts objects: with S3's keys (`SSE-S3`), with a KMS key the state account's
 * bootstrap stack creates (`SSE-KMS`), or with an existing KMS key of the bucket's region.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html
 */
export type StateEncryptionConfig = 'SSE-S3' | 'SSE-KMS' | { readonly kmsKeyArn: string };

/** What names an account's folder of state keys (`state.keyLayout`), default first. */
export const STATE_KEY_LAYOUTS = ['account-id', 'account-name'] as const;
export type StateKeyLayout = (typeof STATE_KEY_LAYOUTS)[number];

/** Remote state location shared by the stacks; each stack has its own key. */
export interface StateConfig {
  /** S3 bucket (versioning and encryption enabled). @example 'acme-terraform-state' */
  readonly bucket: string;
  /** Region of the bucket. @example 'eu-west-1' */
  readonly region: string;
  /** Prefix of the state keys: `<keyPrefix>/<account ID or name>/<bootstrap|workload>.tfstate`. @default 'bitbucket-oidc' */
  readonly keyPrefix?: string;
  /**
   * What names an account's folder of state keys: its 12-digit ID (`account-id`: one set of bucket
   * policy statements serves every account, through `${aws:PrincipalAccount}`) or its `name`
   * (`account-name`: the original layout, four statements per account, about a dozen accounts per
   * bucket). docs/configuration.md, "Many accounts in one state bucket", moves existing state.
   * @default 'account-id'
   */
  readonly keyLayout?: StateKeyLayout;
  /**
   * Name of the account (one of `accounts[].name`) whose bootstrap stack creates and manages the bucket:
   * versioning, encryption, public access blocked, a TLS-only bucket policy granting each account's
   * pipeline roles their own state keys, `prevent_destroy`.
   * @default - the bucket is managed outside this project (the synth says so)
   * @example 'production'
   */
  readonly account?: string;
  /**
   * Default encryption of the bucket. `SSE-KMS` needs `account` (its bootstrap stack creates the key).
   * @default 'SSE-S3'
   * @example { "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
   */
  readonly encryption?: StateEncryptionConfig;
  /**
   * Days after which a replaced version of a state object is deleted (1-3650). Needs `account`.
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
}

/** An AWS account that trusts the workspace. */
export interface AccountConfig {
  /** Short name: names the stack (`bitbucket-oidc-<name>`) and its state key. @example 'production' */
  readonly name: string;
  /** 12-digit account ID; the AWS provider refuses to plan against any other account. */
  readonly accountId: string;
  /** Region of the AWS provider (IAM is global). @example 'eu-west-1' */
  readonly region: string;
  /**
   * ARN of the workspace's provider when the account already has one (AWS allows one per issuer).
   * @default - the stack creates the provider
   */
  readonly existingProviderArn?: string;
  /** Extra default tags for this account's resources. @default {} */
  readonly tags?: Record<string, string>;
  /**
   * The deployment environment whose steps may apply this account's workload stack (the deploy
   * role's trust). Required with `pipeline`.
   */
  readonly deploymentEnvironment?: string | EnvironmentConfig;
  /** IAM path of the workload roles, which the deploy role manages. @default '/bitbucket/' */
  readonly workloadPath?: string;
  /** The permissions boundary every workload role carries. @default - created, allowing '*' minus IAM escalation */
  readonly permissionsBoundary?: PermissionsBoundaryConfig;
  /** Workload roles of this account; at least one unless `pipeline` is set. */
  readonly roles?: RoleConfig[];
}

/** A role that pipelines assume. */
export interface RoleConfig {
  /** IAM role name, 1-64 characters of `A-Za-z0-9+=,.@_-`. */
  readonly name: string;
  /** Repositories (and environments) allowed; required unless `allowAllRepositories`. */
  readonly repositories?: RepositoryConfig[];
  /** Trust every repository of the workspace (prints a warning). @default false */
  readonly allowAllRepositories?: boolean;
  /** Audiences the role accepts, among the workspace's. @default - all of them */
  readonly audiences?: string[];
  /** Only accept assume calls from these CIDRs (`aws:SourceIp`). @default [] */
  readonly sourceIpCidrs?: string[];
  /** Managed policies to attach. @default [] */
  readonly managedPolicyArns?: string[];
  /**
   * Inline policies by name: each a standard IAM policy document, exactly as `aws iam get-role-policy`
   * or the console shows it, or the path of a JSON file holding one (relative to this file).
   * @default {}
   * @example { "upload-artifacts": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::acme-artifacts/*" }] } }
   */
  readonly inlinePolicies?: Record<string, IamPolicyJson | string>;
  /** 3600-43200. @default 3600 */
  readonly maxSessionDurationSeconds?: number;
  /** Must start with the account's `workloadPath`. @default - the account's workloadPath */
  readonly path?: string;
  /** Security findings accepted for this role, each with the reason printed by the synth. @default [] */
  readonly suppressions?: { readonly rule: string; readonly reason: string }[];
  /** @default - none */
  readonly description?: string;
  /** @default {} */
  readonly tags?: Record<string, string>;
}

/** A repository whose pipelines may assume a role. */
export interface RepositoryConfig extends RepositoryReference {
  /**
   * Deployment environments (names or UUIDs): only deployment steps of these environments may assume the role.
   * @default - every step of the repository
   */
  readonly environments?: (string | EnvironmentConfig)[];
}

/**
 * An IAM policy document as AWS writes it (`Statement` an object or a list; each of `Action`,
 * `NotAction`, `Resource`, `NotResource` a string or a list), before validation.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */
export interface IamPolicyJson {
  readonly Version: '2012-10-17' | '2008-10-17';
  readonly Id?: string;
  readonly Statement: IamStatementJson | IamStatementJson[];
}

/** A statement of an `IamPolicyJson`. */
export interface IamStatementJson {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | boolean | number | (string | boolean | number)[]>>;
}

/** A repository after validation: UUIDs lower case without braces. */
export interface ResolvedRepository {
  readonly uuid: string;
  readonly name?: string;
  readonly environments: string[];
  /** Names of the environments that have one, by UUID. */
  readonly environmentNames?: Readonly<Record<string, string>>;
}

/** A role after validation, with its trust policy rendered. */
export interface ResolvedRole {
  readonly name: string;
  readonly repositories: ResolvedRepository[];
  readonly allowAllRepositories: boolean;
  readonly audiences: string[];
  readonly sourceIpCidrs: string[];
  readonly managedPolicyArns: string[];
  readonly inlinePolicies: Record<string, PolicyDocument>;
  readonly maxSessionDurationSeconds: number;
  readonly permissionsBoundaryArn?: string;
  readonly path: string;
  readonly description?: string;
  readonly tags: Record<string, string>;
  readonly suppressions: readonly { readonly rule: string; readonly reason: string }[];
  /** The trust policy exactly as the stack synthesizes it. */
  readonly trustPolicy: PolicyDocument;
}

/** An account after validation. */
export interface ResolvedAccount {
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** The provider's ARN, existing or to be created (deterministic either way). */
  readonly providerArn: string;
  /** True when the provider exists already and is reused. */
  readonly reuseProvider: boolean;
  readonly tags: Record<string, string>;
  /** IAM path of the workload roles. */
  readonly workloadPath: string;
  /** The permissions boundary of the workload roles. */
  readonly boundary: ResolvedBoundary;
  /**
   * The environment whose deployment steps apply the workload stack, when there is a pipeline; its
   * type and rank when the lock file knows them (they order the deployment steps).
   */
  readonly deploymentEnvironment?: NamedEnvironment;
  /** The pipeline's plan and deploy roles (bootstrap stack); empty without a pipeline. */
  readonly pipelineRoles: ResolvedRole[];
  /** The workload roles (workload stack). */
  readonly roles: ResolvedRole[];
}

/** An account's permissions boundary. */
export interface ResolvedBoundary {
  readonly arn: string;
  /** True when the bootstrap stack creates it; false for an existing policy named by ARN. */
  readonly create: boolean;
  readonly name: string;
  readonly path: string;
  readonly allowedActions: string[];
}

/** The state bucket's default encryption after validation. */
export type ResolvedStateEncryption =
  | { readonly type: 'SSE-S3' }
  /** A key created by the state account's bootstrap stack (its ARN is known after apply only). */
  | { readonly type: 'SSE-KMS'; readonly key: 'created' }
  /** An existing key of the bucket's region, managed by the user. */
  | { readonly type: 'SSE-KMS'; readonly key: 'existing'; readonly kmsKeyArn: string };

/** The state location after validation. */
export interface ResolvedState {
  readonly bucket: string;
  readonly region: string;
  readonly keyPrefix: string;
  readonly keyLayout: StateKeyLayout;
  /** The partition of the bucket's region: its ARNs are `arn:<partition>:s3:::<bucket>`. */
  readonly partition: string;
  /** The account whose bootstrap stack manages the bucket. @default - managed outside this project */
  readonly account?: { readonly name: string; readonly accountId: string };
  readonly encryption: ResolvedStateEncryption;
  readonly noncurrentVersionExpirationDays: number;
}

/** The pipeline after validation. */
export interface ResolvedPipeline {
  readonly repository: ResolvedRepository;
  readonly planRoleName: string;
  readonly deployRoleName: string;
  readonly rolePath: string;
}

/** The configuration after validation. */
export interface ResolvedConfig {
  readonly workspace: string;
  readonly workspaceUuid: string;
  readonly issuer: BitbucketIssuer;
  /** The workspace audience first, then the custom ones: the provider's client IDs. */
  readonly audiences: string[];
  readonly extraAudiences: string[];
  readonly thumbprints: string[];
  readonly trustPolicyMaxSize: number;
  readonly tags: Record<string, string>;
  readonly state: ResolvedState;
  readonly pipeline?: ResolvedPipeline;
  readonly accounts: ResolvedAccount[];
}

/** The two stacks of an account: applied once by an administrator, and by the pipeline. */
export type StackKind = 'bootstrap' | 'workload';

/** The stack name of an account's bootstrap or workload stack: `bitbucket-oidc-<account>-<kind>`. */
export function stackName(account: Pick<AccountConfig, 'name'>, kind: StackKind): string {
  return `bitbucket-oidc-${account.name}-${kind}`;
}

/** The state object key of an account's stack: `<keyPrefix>/<account ID or name>/<kind>.tfstate`. */
export function stateKey(
  state: Pick<ResolvedState, 'keyPrefix' | 'keyLayout'>,
  account: Pick<AccountConfig, 'name' | 'accountId'>,
  kind: StackKind,
): string {
  return `${state.keyPrefix}/${state.keyLayout === 'account-id' ? account.accountId : account.name}/${kind}.tfstate`;
}

/**
 * The ARN AWS gives a role: known before it exists (partition, account, path and name), so a pipeline
 * can derive `AWS_ROLE_ARN` from the configuration instead of a variable per account.
 */
export function roleArn(account: Pick<ResolvedAccount, 'partition' | 'accountId'>, role: Pick<ResolvedRole, 'path' | 'name'>): string {
  return `arn:${account.partition}:iam::${account.accountId}:role${role.path}${role.name}`;
}
