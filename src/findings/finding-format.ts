/**
 * The synth summary's lines for the findings: errors, then warnings, then notes, each with why and
 * fix; then one line per suppressed rule and role, with its reason printed.
 */
import { Finding, FindingLevel } from './finding';

const LEVEL_ORDER: readonly FindingLevel[] = ['error', 'warning', 'info'];

/**
 * Lines such as
 * `error BBOIDC-IAM1 on production/deploy: managed policy "..." allows every action on every resource`,
 * `  why: ...`, `  fix: ...`, and `suppressed BBOIDC-IAM1 on production/legacy-admin: "migrating off it by Q3"`.
 */
export function formatFindings(findings: readonly Finding[]): string[] {
  const lines: string[] = [];
  for (const level of LEVEL_ORDER) {
    for (const finding of findings.filter((f) => f.level === level && f.suppressed === undefined)) {
      lines.push(`${level} ${finding.rule} on ${finding.role}: ${finding.message}`, `  why: ${finding.why}`, `  fix: ${finding.fix}`);
    }
  }
  const suppressed = new Set<string>();
  for (const finding of findings) {
    if (finding.suppressed === undefined) continue;
    const line = `suppressed ${finding.rule} on ${finding.role}: ${JSON.stringify(finding.suppressed.reason)}`;
    if (!suppressed.has(line)) lines.push(line);
    suppressed.add(line);
  }
  return lines;
}
