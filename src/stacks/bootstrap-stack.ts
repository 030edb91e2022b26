/**
 * An account's bootstrap stack, applied by an administrator with local credentials (once, and when it
 * changes): the workspace's OIDC provider (created or reused), the permissions boundary of the
 * workload roles, and the pipeline's plan and deploy roles; in the state account (`state.account`),
 * also the state bucket every stack keeps its state in, its own included (`scripts/bootstrap-state.sh`
 * applies it the first time). The pipeline cannot change any of it.
 */
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { accountBoundaryPolicy } from '../config/pipeline-section';
import { stateStoragePolicies } from '../config/state-section';
import { StateBucket } from '../constructs/state-bucket';
import { BitbucketOidcProvider, IBitbucketOidcProvider } from '../constructs/provider';
import { BitbucketPipelinesRole, renderPolicy } from '../constructs/role';
import { AccountStack, AccountStackProps } from './account-stack';
import { declareRole } from './declare-role';

/** The bootstrap resources of one account. */
export class BootstrapStack extends AccountStack {
  readonly provider: IBitbucketOidcProvider;
  readonly pipelineRoles: BitbucketPipelinesRole[];
  /** The state bucket, in the state account's bootstrap stack only. */
  readonly stateBucket?: StateBucket;

  constructor(scope: Construct, props: AccountStackProps) {
    super(scope, 'bootstrap', props);
    const { config, account } = props;

    const workspace = { workspace: config.workspace, workspaceUuid: config.workspaceUuid, extraAudiences: config.extraAudiences };
    this.provider = account.reuseProvider
      ? BitbucketOidcProvider.fromArn(this, 'oidc-provider', { ...workspace, arn: account.providerArn })
      : new BitbucketOidcProvider(this, 'oidc-provider', {
          ...workspace,
          thumbprints: config.thumbprints,
          accountId: account.accountId,
          partition: account.partition,
        });

    const { boundary } = account;
    if (boundary.create) {
      new IamPolicy(this, 'permissions-boundary', {
        name: boundary.name,
        path: boundary.path,
        description: `Permissions boundary of the roles under ${account.workloadPath}: what they may ever do, and no IAM escalation`,
        policy: renderPolicy(
          accountBoundaryPolicy({
            ...(config.pipeline === undefined ? {} : { pipeline: config.pipeline }),
            account,
            bootstrap: account,
            workspace: config.workspace,
            state: config.state,
          }),
        ),
      });
    }

    this.pipelineRoles = account.pipelineRoles.map((role) => declareRole(this, config, this.provider, role));

    if (config.state.account?.name === account.name) {
      const { state } = config;
      const { bucketPolicy, keyPolicy } = stateStoragePolicies(config);
      const { encryption } = state;
      this.stateBucket = new StateBucket(this, 'state-bucket', {
        bucket: state.bucket,
        region: state.region,
        encryption:
          encryption.type === 'SSE-S3'
            ? encryption
            : encryption.key === 'existing'
              ? { type: 'SSE-KMS', kmsKeyArn: encryption.kmsKeyArn }
              : { type: 'SSE-KMS', keyPolicy: keyPolicy! },
        noncurrentVersionExpirationDays: state.noncurrentVersionExpirationDays,
        policy: bucketPolicy,
      });
      new TerraformOutput(this, 'state_bucket_arn', {
        value: this.stateBucket.arn,
        description: 'The state bucket of every stack of this configuration',
      });
      if (this.stateBucket.kmsKey !== undefined) {
        new TerraformOutput(this, 'state_kms_key_arn', {
          value: this.stateBucket.kmsKey.arn,
          description: 'The KMS key the state bucket encrypts with',
        });
      }
    }

    new TerraformOutput(this, 'oidc_provider_arn', {
      value: this.provider.arn,
      description: 'ARN of the Bitbucket workspace OIDC provider in this account',
    });
    new TerraformOutput(this, 'permissions_boundary_arn', {
      value: boundary.arn,
      description: 'The permissions boundary every workload role carries',
    });
    new TerraformOutput(this, 'pipeline_role_arns', {
      value: Object.fromEntries(this.pipelineRoles.map((role) => [role.name, role.arn])),
      description: 'ARN of the pipeline plan and deploy roles by name (empty without a pipeline section)',
    });
  }
}
