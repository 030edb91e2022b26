/**
 * The workspace's OIDC identity provider in IAM: created here, or an existing one of the account
 * reused (AWS allows one provider per issuer URL per account, so creating a second one fails).
 */
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { BITBUCKET_RULES, BitbucketIssuer, bitbucketIssuer, oidcProviderArn, workspaceAudience } from '../bitbucket/protocol';
import { checkValue, LIMITS, RULES } from '../iam/rules';
import { checkResolved, escapeLiterals, literal } from './template-literal';

/** What a role needs to know of the workspace's OIDC provider. */
export interface IBitbucketOidcProvider {
  /** ARN of the provider: the role trust policy's Federated principal. */
  readonly arn: string;
  /** The workspace's issuer, whose condition keys the trust policy uses. */
  readonly issuer: BitbucketIssuer;
  /** The client IDs (audiences) the provider accepts; the default role audience list. */
  readonly audiences: readonly string[];
  /** The provider resource when this stack creates it (roles depend on it); undefined when reused. */
  readonly resource?: IamOpenidConnectProvider;
}

/** The workspace, as shown in Repository settings > OpenID Connect. */
export interface BitbucketWorkspaceProps {
  /**
   * Workspace ID (slug), as in `bitbucket.org/<workspace>`.
   * @example 'acme'
   */
  readonly workspace: string;
  /**
   * Workspace UUID, without braces, lower case: the default audience is
   * `ari:cloud:bitbucket::workspace/<workspaceUuid>`.
   * @example '8a1f1c70-0c1e-4f7b-9c53-6f2d2a1b3c4d'
   */
  readonly workspaceUuid: string;
  /**
   * Extra audiences (custom audiences configured in Bitbucket), accepted besides the default one.
   * @default - the workspace audience only
   */
  readonly extraAudiences?: readonly string[];
}

/** Props of a new provider. */
export interface BitbucketOidcProviderProps extends BitbucketWorkspaceProps {
  /**
   * Server certificate thumbprints. Since 2024 AWS verifies such providers against its trusted root
   * CAs, so none are needed.
   * @default - none
   */
  readonly thumbprints?: readonly string[];
  /**
   * Account the provider is created in. When given, `arn` is the literal ARN AWS will assign, so
   * policies that reference it synthesize without tokens (valid in `cdktf synth --hcl` too).
   * @default - `arn` is a reference to the created resource
   */
  readonly accountId?: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** @default - no tags besides the provider's default tags */
  readonly tags?: Record<string, string>;
}

/** Props of a reused provider. */
export interface ExistingBitbucketOidcProviderProps extends BitbucketWorkspaceProps {
  /**
   * ARN of the existing provider.
   * @example 'arn:aws:iam::123456789012:oidc-provider/api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc'
   */
  readonly arn: string;
}

/** Props of a reused provider found by account, when its ARN is the deterministic one. */
export interface AccountBitbucketOidcProviderProps extends BitbucketWorkspaceProps {
  readonly accountId: string;
  /** @default 'aws' */
  readonly partition?: string;
}

/** Every audience the provider accepts: the workspace audience first, then the extra ones. */
export function providerAudiences(props: BitbucketWorkspaceProps): string[] {
  return [workspaceAudience(props.workspaceUuid), ...(props.extraAudiences ?? [])];
}

/** Throws one error listing every problem of the construct's props (tokens are skipped). */
function assertValid(problems: (string | undefined)[]): void {
  const found = problems.filter((p): p is string => p !== undefined);
  if (found.length > 0) throw new Error(`Invalid Bitbucket OIDC provider props:\n  - ${found.join('\n  - ')}`);
}

function checkWorkspace(props: BitbucketWorkspaceProps, audiences: readonly string[]): (string | undefined)[] {
  return [
    ...checkResolved('workspace', props.workspace, BITBUCKET_RULES.workspace),
    ...checkResolved('workspaceUuid', props.workspaceUuid, BITBUCKET_RULES.uuid),
    audiences.length > LIMITS.clientIds ? `audiences: ${audiences.length} client IDs must be at most ${LIMITS.clientIds}` : undefined,
    ...audiences.flatMap((a, i) => checkResolved(`audiences[${i}]`, a, RULES.audience)),
  ];
}

class ReusedProvider extends Construct implements IBitbucketOidcProvider {
  constructor(
    scope: Construct,
    id: string,
    readonly arn: string,
    readonly issuer: BitbucketIssuer,
    readonly audiences: readonly string[],
  ) {
    super(scope, id);
  }
}

/**
 * The IAM OIDC identity provider of a Bitbucket workspace.
 *
 * @see https://support.atlassian.com/bitbucket-cloud/docs/deploy-on-aws-using-bitbucket-pipelines-openid-connect/
 */
export class BitbucketOidcProvider extends Construct implements IBitbucketOidcProvider {
  /** Reuses an existing provider of the account by its ARN; nothing is created. */
  static fromArn(scope: Construct, id: string, props: ExistingBitbucketOidcProviderProps): IBitbucketOidcProvider {
    const issuer = bitbucketIssuer(props.workspace);
    const audiences = providerAudiences(props);
    assertValid([
      ...checkWorkspace(props, audiences),
      Token.isUnresolved(props.arn) || props.arn.endsWith(`:oidc-provider/${issuer.hostAndPath}`)
        ? undefined
        : `arn: ${JSON.stringify(props.arn)} must be the provider of issuer ${issuer.url}, e.g. "arn:aws:iam::123456789012:oidc-provider/${issuer.hostAndPath}"`,
    ]);
    return new ReusedProvider(scope, id, props.arn, issuer, audiences);
  }

  /** Reuses the account's existing provider, whose ARN AWS derives from the account and issuer. */
  static fromAccount(scope: Construct, id: string, props: AccountBitbucketOidcProviderProps): IBitbucketOidcProvider {
    const issuer = bitbucketIssuer(props.workspace);
    const arn = oidcProviderArn(props.partition ?? 'aws', props.accountId, issuer);
    return BitbucketOidcProvider.fromArn(scope, id, { ...props, arn });
  }

  readonly arn: string;
  readonly issuer: BitbucketIssuer;
  readonly audiences: readonly string[];
  readonly resource: IamOpenidConnectProvider;

  constructor(scope: Construct, id: string, props: BitbucketOidcProviderProps) {
    super(scope, id);
    const { workspace, thumbprints = [], accountId, partition = 'aws', tags } = props;
    this.issuer = bitbucketIssuer(workspace);
    this.audiences = providerAudiences(props);
    assertValid([
      ...checkWorkspace(props, this.audiences),
      thumbprints.length > LIMITS.thumbprints ? `thumbprints: ${thumbprints.length} must be at most ${LIMITS.thumbprints}` : undefined,
      ...thumbprints.map((t, i) => checkValue(`thumbprints[${i}]`, t, RULES.thumbprint)),
      ...(accountId === undefined ? [] : checkResolved('accountId', accountId, RULES.accountId)),
    ]);
    this.resource = new IamOpenidConnectProvider(this, 'provider', {
      url: this.issuer.url,
      clientIdList: this.audiences.map(literal),
      ...(thumbprints.length === 0 ? {} : { thumbprintList: [...thumbprints] }),
      ...(tags === undefined ? {} : { tags: escapeLiterals(tags) }),
    });
    this.arn = accountId === undefined ? this.resource.arn : oidcProviderArn(partition, accountId, this.issuer);
  }
}
