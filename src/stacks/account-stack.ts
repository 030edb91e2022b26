/**
 * One Terraform stack per AWS account: the account's AWS provider (pinned to the account ID), its S3
 * state, the workspace's OIDC provider (created or reused) and the account's roles, with outputs the
 * pipeline reads `AWS_ROLE_ARN` from.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { configureS3State } from './backend';
import { ResolvedAccount, ResolvedConfig, stateKey } from '../config/types';
import { escapeLiterals } from '../constructs/template-literal';
import { repairHcl } from './hcl';
import { BitbucketOidcProvider, IBitbucketOidcProvider } from '../constructs/provider';
import { BitbucketPipelinesRole } from '../constructs/role';

/** Tag on every resource, so people find what manages it. */
export const MANAGED_BY_TAG = { 'managed-by': 'bitbucket-oidc-cdktf' } as const;

/** Props of an account's stack. */
export interface AccountStackProps {
  /** The validated configuration. */
  readonly config: ResolvedConfig;
  /** The account this stack manages (one of `config.accounts`). */
  readonly account: ResolvedAccount;
}

/** The resources of one AWS account. */
export class AccountStack extends TerraformStack {
  readonly provider: IBitbucketOidcProvider;
  readonly roles: BitbucketPipelinesRole[];

  constructor(scope: Construct, id: string, props: AccountStackProps) {
    super(scope, id);
    const { config, account } = props;

    new AwsProvider(this, 'aws', {
      region: account.region,
      // A plan or apply with credentials of any other account fails before touching anything.
      allowedAccountIds: [account.accountId],
      defaultTags: [{ tags: escapeLiterals({ ...MANAGED_BY_TAG, ...config.tags, ...account.tags }) }],
    });
    configureS3State(this, { bucket: config.state.bucket, region: config.state.region, key: stateKey(config.state.keyPrefix, account) });

    const workspace = { workspace: config.workspace, workspaceUuid: config.workspaceUuid, extraAudiences: config.extraAudiences };
    this.provider = account.reuseProvider
      ? BitbucketOidcProvider.fromArn(this, 'oidc-provider', { ...workspace, arn: account.providerArn })
      : new BitbucketOidcProvider(this, 'oidc-provider', {
          ...workspace, thumbprints: config.thumbprints, accountId: account.accountId, partition: account.partition,
        });

    this.roles = account.roles.map(
      (role) =>
        new BitbucketPipelinesRole(this, `role-${role.name}`, {
          provider: this.provider,
          trust: {
            repositories: role.repositories,
            allowAllRepositories: role.allowAllRepositories,
            audiences: role.audiences,
            sourceIpCidrs: role.sourceIpCidrs,
          },
          role: {
            name: role.name,
            path: role.path,
            maxSessionDurationSeconds: role.maxSessionDurationSeconds,
            managedPolicyArns: role.managedPolicyArns,
            inlinePolicies: role.inlinePolicies,
            ...(Object.keys(role.tags).length === 0 ? {} : { tags: role.tags }),
            trustPolicyMaxSize: config.trustPolicyMaxSize,
            ...(role.description === undefined ? {} : { description: role.description }),
            ...(role.permissionsBoundaryArn === undefined ? {} : { permissionsBoundaryArn: role.permissionsBoundaryArn }),
          },
        }),
    );

    new TerraformOutput(this, 'oidc_provider_arn', {
      value: this.provider.arn,
      description: 'ARN of the Bitbucket workspace OIDC provider in this account',
    });
    new TerraformOutput(this, 'role_arns', {
      value: Object.fromEntries(this.roles.map((role) => [role.name, role.arn])),
      description: 'ARN of each role by name: the AWS_ROLE_ARN of the pipeline steps that assume it',
    });
  }

  /** The stack as HCL (`cdktf synth --hcl`), with cdktf 0.21's renderer defects repaired. */
  override toHclTerraform(): { [key: string]: any } {
    const rendered = super.toHclTerraform();
    return { ...rendered, hcl: repairHcl(rendered.hcl, this.toTerraform() as Record<string, unknown>) };
  }
}
