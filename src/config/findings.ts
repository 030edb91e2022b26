/**
 * The security findings of a configuration (`src/findings/`), run on its workload roles: an
 * unsuppressed error is a configuration problem (nothing is synthesized); warnings, notes and
 * suppressions, with their reasons, are printed by the synth. The pipeline's own roles are generated
 * and proven by tests, not configured, so they are not subject to findings.
 */
import { Finding, FindingRole, formatFindings, runFindings } from '../findings';
import { join } from '../iam/rules';
import { Checker } from './checker';
import { ResolvedAccount } from './types';

/** The findings input of each workload role, with the config path it came from. */
function findingRoles(accounts: readonly ResolvedAccount[]): { role: FindingRole; path: string }[] {
  return accounts.flatMap((account, a) =>
    account.roles.map((role, r) => ({
      path: join(join(join('accounts', a), 'roles'), r),
      role: {
        account: { name: account.name, accountId: account.accountId },
        name: role.name,
        repositories: role.repositories.map((repository) => ({
          uuid: repository.uuid,
          ...(repository.name === undefined ? {} : { name: repository.name }),
          environments: repository.environments.map((uuid) => {
            const name = repository.environmentNames?.[uuid];
            return name === undefined ? { uuid } : { uuid, name };
          }),
        })),
        allowAllRepositories: role.allowAllRepositories,
        sourceIpCidrs: role.sourceIpCidrs,
        managedPolicyArns: role.managedPolicyArns,
        inlinePolicies: role.inlinePolicies,
        suppressions: role.suppressions,
      },
    })),
  );
}

/** Runs the findings; errors become problems at the role's path, the rest warnings. */
export function reportFindings(check: Checker, accounts: readonly ResolvedAccount[]): Finding[] {
  const inputs = findingRoles(accounts);
  const findings = runFindings(inputs.map((input) => input.role));
  const pathOf = (finding: Finding) => inputs.find((input) => `${input.role.account.name}/${input.role.name}` === finding.role)?.path ?? '';
  for (const finding of findings) {
    if (finding.level === 'error' && finding.suppressed === undefined) {
      check.fail(pathOf(finding), `${finding.rule} ${finding.message}; why: ${finding.why}; fix: ${finding.fix}`);
    }
  }
  const rest = findings.filter((finding) => finding.level !== 'error' || finding.suppressed !== undefined);
  check.warnings.push(...formatFindings(rest));
  return findings;
}
