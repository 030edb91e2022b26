// The token doctor: why would AWS accept or refuse a Bitbucket Pipelines OIDC token?
export { runDoctor, TOKEN_ENV_VAR, USAGE } from './cli';
export type { DoctorOptions } from './cli';
export { EXIT, UnusableInputError } from './errors';
export { audienceCheck, expiryCheck, explainToken, issuerCheck, signatureCheck } from './explain';
export type {
  CheckStatus,
  ConditionReport,
  DoctorReport,
  ExplainInput,
  Failure,
  RoleReport,
  StepContext,
  SubjectReport,
  TokenCheck,
} from './explain';
export { denialReason, formatReport, jsonReport, JSON_REPORT_VERSION } from './report-format';
export type { JsonError, JsonReport, ReportSource } from './report-format';
export { BITBUCKET_TOKEN_ALGORITHM, decodeToken, discoverJwks, verifySignature } from './jwt';
export type { DecodedToken, FetchLike, JwksLocation, SignatureCheck, TokenHeader } from './jwt';
export { selectRoles } from './role-selection';
export type { AccountRole, RoleSelection } from './role-selection';
export { parseSubject } from './subject';
export type { ParsedSubject } from './subject';
