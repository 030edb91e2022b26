/**
 * BBOIDC-IP2 (info): source IP ranges refuse steps that have not opted into Atlassian's IP ranges.
 */
import { quoteList } from '../labels';
import { FindingRole, FindingRule, RuleHit } from '../finding';

export const SourceIpNeedsOptIn: FindingRule = {
  id: 'BBOIDC-IP2',
  level: 'info',
  summary: 'sourceIpCidrs admits only steps that call from the listed ranges: ordinary steps are refused.',
  why:
    "Since Atlassian's 2024 runtime, the published static IP ranges of Bitbucket Pipelines apply only to steps that " +
    'opt in (atlassian-ip-ranges: true, or a larger step size); an ordinary step calls from a wide cloud range, and ' +
    'AWS refuses its AssumeRoleWithWebIdentity with "Not authorized". The condition gates only the assume call, not ' +
    'the later use of the credentials.',
  fix:
    "Opt every step that assumes this role into Atlassian's IP ranges (atlassian-ip-ranges: true, or a larger size), " +
    'or remove sourceIpCidrs. Suppress this note with the reason once the steps opt in.',
  check(role: FindingRole): RuleHit[] {
    if (role.sourceIpCidrs.length === 0) return [];
    return [{ message: `sourceIpCidrs ${quoteList(role.sourceIpCidrs)} admit only steps that opt into Atlassian's IP ranges` }];
  },
};
