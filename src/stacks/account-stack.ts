/**
 * What every stack of an account shares: the account's AWS provider (pinned to the account ID, with
 * default tags), its own S3 state key, and cdktf 0.21's HCL export repaired. The account's two
 * stacks build on it: `BootstrapStack` (applied once by an administrator) and `WorkloadStack`
 * (applied by the pipeline).
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { escapeLiterals } from '../constructs/template-literal';
import { ResolvedAccount, ResolvedConfig, ResolvedStateEncryption, StackKind, stackName, stateKey } from '../config/types';
import { configureS3State, StateObjectEncryption } from './backend';
import { repairHcl } from './hcl';

/** The backend's encryption for the bucket's: the created key is the bucket's default, an existing key is named. */
function stateObjectEncryption(encryption: ResolvedStateEncryption): StateObjectEncryption {
  if (encryption.type === 'SSE-S3') return { type: 'SSE-S3' };
  return encryption.key === 'created' ? { type: 'bucket-default' } : { type: 'SSE-KMS', kmsKeyArn: encryption.kmsKeyArn };
}

/** Tag on every resource, so people find what manages it. */
export const MANAGED_BY_TAG = { 'managed-by': 'bitbucket-oidc-cdktf' } as const;

/** Props of an account's stack. */
export interface AccountStackProps {
  /** The validated configuration. */
  readonly config: ResolvedConfig;
  /** The account this stack manages (one of `config.accounts`). */
  readonly account: ResolvedAccount;
}

/** A stack of one AWS account: provider, state and HCL export. */
export class AccountStack extends TerraformStack {
  readonly account: ResolvedAccount;

  constructor(scope: Construct, kind: StackKind, props: AccountStackProps) {
    super(scope, stackName(props.account, kind));
    const { config, account } = props;
    this.account = account;
    new AwsProvider(this, 'aws', {
      region: account.region,
      // A plan or apply with credentials of any other account fails before touching anything.
      allowedAccountIds: [account.accountId],
      defaultTags: [{ tags: escapeLiterals({ ...MANAGED_BY_TAG, ...config.tags, ...account.tags }) }],
    });
    configureS3State(this, {
      bucket: config.state.bucket,
      region: config.state.region,
      key: stateKey(config.state, account, kind),
      encryption: stateObjectEncryption(config.state.encryption),
    });
  }

  /** The stack as HCL (`cdktf synth --hcl`), with cdktf 0.21's renderer defects repaired. */
  override toHclTerraform(): { [key: string]: any } {
    const rendered = super.toHclTerraform();
    return { ...rendered, hcl: repairHcl(rendered.hcl, this.toTerraform() as Record<string, unknown>) };
  }
}
