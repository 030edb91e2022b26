/**
 * The roles a configuration synthesizes to, read back from each stack's `cdk.tf.json` (the real
 * product): account, role name and path, and the parsed `assume_role_policy`.
 */
import { unescapeTemplate } from '../../src/constructs/template-literal';
import { PolicyDocument } from '../../src/iam/policy';
import { validateConfig } from '../../src/config/validate';
import { synthesizeStacks } from './synth';

export { synthesizeStacks };

/** One synthesized role. */
export interface SynthesizedRole {
  readonly account: string;
  readonly accountId: string;
  readonly name: string;
  readonly path: string;
  /** Parsed from the synthesized `assume_role_policy`. */
  readonly trustPolicy: PolicyDocument;
}

/** Every role of every stack of a configuration. */
export function synthesizedRoles(input: unknown): SynthesizedRole[] {
  const { config } = validateConfig(input, 'test config');
  const stacks = synthesizeStacks(input);
  return config.accounts.flatMap((account) => {
    const json = JSON.parse(stacks[account.name]) as {
      resource: { aws_iam_role?: Record<string, { name: string; path: string; assume_role_policy: string }> };
    };
    return Object.values(json.resource.aws_iam_role ?? {}).map((role) => ({
      account: account.name,
      accountId: account.accountId,
      name: role.name,
      path: role.path,
      // What AWS receives: Terraform turns the escaped `$${` of a literal back into `${`.
      trustPolicy: JSON.parse(unescapeTemplate(role.assume_role_policy)) as PolicyDocument,
    }));
  });
}
