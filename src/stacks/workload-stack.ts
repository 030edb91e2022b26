/**
 * An account's workload stack, planned and applied by the pipeline (plan and deploy roles): the roles
 * other repositories assume, each under the account's workload path and carrying its permissions
 * boundary. It refers to the bootstrap's provider by its deterministic ARN, so the two stacks share
 * nothing but the apply order (bootstrap first).
 */
import { TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { BitbucketOidcProvider } from '../constructs/provider';
import { BitbucketPipelinesRole } from '../constructs/role';
import { AccountStack, AccountStackProps } from './account-stack';
import { declareRole } from './declare-role';

/** The workload roles of one account. */
export class WorkloadStack extends AccountStack {
  readonly roles: BitbucketPipelinesRole[];

  constructor(scope: Construct, props: AccountStackProps) {
    super(scope, 'workload', props);
    const { config, account } = props;
    const provider = BitbucketOidcProvider.fromArn(this, 'oidc-provider', {
      workspace: config.workspace,
      workspaceUuid: config.workspaceUuid,
      extraAudiences: config.extraAudiences,
      arn: account.providerArn,
    });
    this.roles = account.roles.map((role) => declareRole(this, config, provider, role));
    new TerraformOutput(this, 'role_arns', {
      value: Object.fromEntries(this.roles.map((role) => [role.name, role.arn])),
      description: 'ARN of each role by name: the AWS_ROLE_ARN of the pipeline steps that assume it',
    });
  }
}
