/**
 * Runs the rules over every role and applies the roles' suppressions. A suppression accepts the
 * findings of one rule on one role; one that names an unknown rule, a rule that does not fire on the
 * role, or gives no reason is itself an error, so a stale suppression cannot silently linger.
 */
import { roleLabel } from './labels';
import { FINDING_RULES } from './rules';
import { Finding, FindingRole, FindingRule, FindingSuppression } from './finding';

/** The id of the findings about suppressions themselves; they cannot be suppressed. */
export const SUPPRESSION_RULE_ID = 'BBOIDC-SUPPRESSION';

const SUPPRESSION_WHY =
  'A suppression hides a finding from every synth summary; one without a reason, or one that no longer matches a ' +
  'finding, hides the next finding of that rule on the role without anyone deciding to accept it.';

/** Every finding of every role, suppressed ones marked with their reason, then suppression errors. */
export function runFindings(roles: readonly FindingRole[], rules: readonly FindingRule[] = FINDING_RULES): Finding[] {
  return roles.flatMap((role) => findingsOf(role, roles, rules));
}

function findingsOf(role: FindingRole, all: readonly FindingRole[], rules: readonly FindingRule[]): Finding[] {
  const label = roleLabel(role);
  const hits = new Map(rules.map((rule) => [rule.id, rule.check(role, all)]));
  const { accepted, problems } = checkSuppressions(role, rules, (id) => (hits.get(id)?.length ?? 0) > 0);
  const findings: Finding[] = rules.flatMap((rule) =>
    (hits.get(rule.id) ?? []).map((hit): Finding => {
      const reason = accepted.get(rule.id);
      return {
        rule: rule.id,
        level: rule.level,
        role: label,
        message: hit.message,
        why: hit.why ?? rule.why,
        fix: hit.fix ?? rule.fix,
        ...(reason === undefined ? {} : { suppressed: { reason } }),
      };
    }),
  );
  const fix = suppressionFix(rules);
  return [
    ...findings,
    ...problems.map((message): Finding => ({ rule: SUPPRESSION_RULE_ID, level: 'error', role: label, message, why: SUPPRESSION_WHY, fix })),
  ];
}

/** The valid suppressions of a role (rule id to reason) and a message for each invalid one. */
function checkSuppressions(
  role: FindingRole,
  rules: readonly FindingRule[],
  fires: (id: string) => boolean,
): { accepted: Map<string, string>; problems: string[] } {
  const accepted = new Map<string, string>();
  const problems: string[] = [];
  for (const suppression of role.suppressions) {
    const problem = suppressionProblem(suppression, rules, fires, accepted);
    if (problem === undefined) accepted.set(suppression.rule, suppression.reason.trim());
    else problems.push(`suppression of ${JSON.stringify(suppression.rule)} on ${roleLabel(role)} ${problem}`);
  }
  return { accepted, problems };
}

function suppressionProblem(
  suppression: FindingSuppression,
  rules: readonly FindingRule[],
  fires: (id: string) => boolean,
  accepted: ReadonlyMap<string, string>,
): string | undefined {
  const { rule: id, reason } = suppression;
  if (id === SUPPRESSION_RULE_ID) return 'is not allowed: findings about suppressions cannot be suppressed';
  const rule = rules.find((r) => r.id === id);
  if (rule === undefined) {
    const near = rules.find((r) => r.id.toLowerCase() === String(id).trim().toLowerCase());
    return near === undefined
      ? `names an unknown rule; the rules are ${rules.map((r) => r.id).join(', ')}`
      : `names an unknown rule; did you mean ${JSON.stringify(near.id)}?`;
  }
  // The config is JSON: a missing reason arrives as undefined whatever the type says.
  if (typeof reason !== 'string' || reason.trim() === '')
    return 'has an empty reason: say why the finding is accepted, e.g. "migrating off it by Q3"';
  if (accepted.has(id)) return 'repeats an earlier suppression of the same rule on this role';
  if (!fires(id)) return `is stale: ${id} does not fire on this role; remove the suppression`;
  return undefined;
}

function suppressionFix(rules: readonly FindingRule[]): string {
  return `Give each suppression a rule id that fires on the role (${rules.map((r) => r.id).join(', ')}) and a non-empty reason, and remove suppressions that no longer match a finding.`;
}

/** The findings that fail the synth: errors not suppressed. */
export function blockingFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((finding) => finding.level === 'error' && finding.suppressed === undefined);
}
