/**
 * Every finding rule, in the order findings are reported.
 */
import { FindingRule } from '../finding';
import { AdminEquivalent } from './admin-equivalent';
import { AllRepositories } from './all-repositories';
import { BroadAccessForEveryStep } from './broad-access-for-every-step';
import { EnvironmentInTwoAccounts } from './environment-in-two-accounts';
import { SourceIpMatchesEverything } from './source-ip-matches-everything';
import { SourceIpNeedsOptIn } from './source-ip-needs-opt-in';

export {
  AdminEquivalent,
  AllRepositories,
  BroadAccessForEveryStep,
  EnvironmentInTwoAccounts,
  SourceIpMatchesEverything,
  SourceIpNeedsOptIn,
};

/** Every rule `runFindings` runs by default, in report order. */
export const FINDING_RULES: readonly FindingRule[] = [
  AdminEquivalent,
  BroadAccessForEveryStep,
  EnvironmentInTwoAccounts,
  AllRepositories,
  SourceIpMatchesEverything,
  SourceIpNeedsOptIn,
];
