/**
 * Security findings at synth, in the spirit of cdk-nag: pure functions over the roles, one rule per
 * file under `rules/`.
 */
export type { ActionClass } from './action-classes';
export { actionMatches, classifyAction, DATA_READ_ACTIONS, DATA_READ_VERBS, IAM_ESCALATION_ACTIONS, READ_VERBS } from './action-classes';
export { formatFindings } from './finding-format';
export { ADMIN_POLICIES, DATA_READING_POLICIES, METADATA_ONLY_POLICIES } from './managed-policies';
export * from './rules';
export { blockingFindings, runFindings, SUPPRESSION_RULE_ID } from './run';
export * from './finding';
