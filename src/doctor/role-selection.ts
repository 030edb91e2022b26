/**
 * The roles the doctor checks: every role of every account of the configuration (the pipeline's plan
 * and deploy roles first, then the workload roles), narrowed by
 * `--account` and `--role`, with the ARN each will have once deployed.
 */
import { ResolvedAccount, ResolvedConfig, ResolvedRole, roleArn } from '../config/types';
import { UnusableInputError } from './errors';

/** A role of an account. */
export interface AccountRole {
  readonly account: ResolvedAccount;
  readonly role: ResolvedRole;
  /** `arn:<partition>:iam::<account>:role<path><name>`: the `AWS_ROLE_ARN` of steps that assume it. */
  readonly arn: string;
}

/** Which roles to check; empty lists mean all. */
export interface RoleSelection {
  readonly accounts: readonly string[];
  readonly roles: readonly string[];
}

/**
 * The roles selected by account and role names. An unknown name is unusable input: the error lists
 * the names the configuration has, so a typo is fixed in one go.
 */
export function selectRoles(config: ResolvedConfig, selection: RoleSelection, source: string): AccountRole[] {
  const knownAccounts = config.accounts.map((a) => a.name);
  const unknownAccounts = selection.accounts.filter((name) => !knownAccounts.includes(name));
  if (unknownAccounts.length > 0) {
    throw new UnusableInputError(
      `--account ${unknownAccounts.map((n) => JSON.stringify(n)).join(', ')} must name an account of ${source}; its accounts are ${knownAccounts.join(', ')}`,
    );
  }
  const accounts = config.accounts.filter((a) => selection.accounts.length === 0 || selection.accounts.includes(a.name));

  const holders = new Map<string, string[]>();
  for (const account of accounts) {
    for (const role of rolesOf(account)) holders.set(role.name, [...(holders.get(role.name) ?? []), account.name]);
  }
  const unknownRoles = selection.roles.filter((name) => !holders.has(name));
  if (unknownRoles.length > 0) {
    const where = selection.accounts.length === 0 ? source : `account ${accounts.map((a) => a.name).join(', ')} of ${source}`;
    const known = [...holders].map(([name, owners]) => `${name} (${owners.join(', ')})`).join(', ');
    throw new UnusableInputError(
      `--role ${unknownRoles.map((n) => JSON.stringify(n)).join(', ')} must name a role of ${where}; its roles are ${known || 'none'}`,
    );
  }
  return accounts.flatMap((account) =>
    rolesOf(account)
      .filter((role) => selection.roles.length === 0 || selection.roles.includes(role.name))
      .map((role) => ({ account, role, arn: roleArn(account, role) })),
  );
}

/** Every role of an account: the pipeline roles (bootstrap stack), then the workload roles. */
export function rolesOf(account: ResolvedAccount): ResolvedRole[] {
  return [...account.pipelineRoles, ...account.roles];
}
