/**
 * Which IAM actions write and which read, and which reads return data rather than metadata: a
 * heuristic on the action's verb, because AWS's own access levels are not available offline.
 *
 * The heuristic:
 * - A read is an action whose name starts with a read verb ({@link READ_VERBS}: `Get`, `List`,
 *   `Describe`, `BatchGet`, `Head`, `Search`, `Lookup`, `Query`, `Scan`, `Select`, ...) followed by an
 *   upper-case letter or the end of the name. Everything else writes (`Put`, `Create`, `Delete`,
 *   `Invoke`, `Start`, `Send`, `Pass`, ...): an unknown verb counts as a write, so a mistake errs
 *   towards a finding.
 * - A data read is a read that returns the content of a resource rather than its configuration:
 *   the actions listed in {@link DATA_READ_ACTIONS} (`s3:GetObject`, `dynamodb:GetItem`,
 *   `secretsmanager:GetSecretValue`, `ssm:GetParameter*`, `kms:Decrypt`, `logs:GetLogEvents`,
 *   `lambda:GetFunction`, `sqs:ReceiveMessage`, ...) and any action whose verb only ever reads data
 *   ({@link DATA_READ_VERBS}: `Query`, `Scan`, `Select`, `Receive`, `Download`, `Decrypt`, `Filter`,
 *   `Read`).
 * - A pattern with wildcards is classified by the most dangerous action it can match: `*`, `s3:*`,
 *   `s3:Put*` and `s3:G*` (which matches nothing but could match a future `s3:Grant...`) write;
 *   `s3:Get*` reads data because it matches `s3:GetObject`; `ec2:Describe*` reads metadata.
 *
 * The tests measure this heuristic against AWS's published access levels (the iam-data package of
 * the test-only policy engine).
 *
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
import { wildcardMatch } from '../iam/evaluate';

/** What an action (or every action a pattern matches, at worst) does. */
export type ActionClass = 'write' | 'data-read' | 'metadata-read';

/** Verbs that read. A verb is the start of the action name, followed by an upper-case letter or the end. */
export const READ_VERBS: readonly string[] = [
  'Get',
  'BatchGet',
  'List',
  'Describe',
  'BatchDescribe',
  'Head',
  'Search',
  'Lookup',
  'Query',
  'Scan',
  'Select',
  'View',
  'Check',
  'Detect',
  'BatchDetect',
  'Read',
  'Download',
  'Receive',
  'Filter',
  'Decrypt',
  'Is',
  'Calculate',
  'Estimate',
  'Simulate',
  'Preview',
  'Validate',
];

/** Read verbs whose actions return data, whatever the resource: `dynamodb:Query`, `sqs:ReceiveMessage`. */
export const DATA_READ_VERBS: readonly string[] = ['Query', 'Scan', 'Select', 'Receive', 'Download', 'Decrypt', 'Filter', 'Read'];

/**
 * Reads that return the content of resources, secrets or credentials, beyond the verbs of
 * {@link DATA_READ_VERBS}. Patterns, matched without regard to case.
 */
export const DATA_READ_ACTIONS: readonly string[] = [
  // Object and item contents.
  's3:GetObject',
  's3:GetObjectVersion',
  's3:GetObjectTorrent',
  's3:GetObjectVersionTorrent',
  's3:GetObjectVersionForReplication',
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:GetRecords',
  'dynamodb:PartiQLSelect',
  'kinesis:GetRecords',
  'glacier:GetJobOutput',
  'athena:GetQueryResults',
  'es:ESHttpGet',
  'elasticfilesystem:ClientMount',
  'kafka-cluster:ReadData',
  // Secrets, parameters and keys.
  'secretsmanager:GetSecretValue',
  'secretsmanager:BatchGetSecretValue',
  'ssm:GetParameter',
  'ssm:GetParameters',
  'ssm:GetParametersByPath',
  'ssm:GetParameterHistory',
  'kms:Decrypt',
  'ec2:GetPasswordData',
  'lightsail:GetRelationalDatabaseMasterUserPassword',
  // Credentials minted for the caller.
  'sts:GetFederationToken',
  'redshift:GetClusterCredentials',
  'redshift:GetClusterCredentialsWithIAM',
  'redshift-serverless:GetCredentials',
  'cognito-identity:GetCredentialsForIdentity',
  // Logs and command output.
  'logs:GetLogEvents',
  'logs:GetLogRecord',
  'logs:GetQueryResults',
  'logs:FilterLogEvents',
  'rds:DownloadDBLogFilePortion',
  'rds:DownloadCompleteDBLogFile',
  'ec2:GetConsoleOutput',
  'ssm:GetCommandInvocation',
  // Code and images (source, build output, environment variables holding secrets).
  'lambda:GetFunction',
  'lambda:GetFunctionConfiguration',
  'lambda:GetLayerVersion',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchGetImage',
  'codecommit:GitPull',
  'codecommit:GetBlob',
  'codecommit:GetFile',
  'codeartifact:ReadFromRepository',
  // People.
  'cognito-idp:ListUsers',
  'cognito-idp:AdminGetUser',
];

/** The service and name of `service:Name`; `*` alone is every action of every service. */
export function splitAction(action: string): { service: string; name: string } {
  const colon = action.indexOf(':');
  return colon === -1 ? { service: action, name: '*' } : { service: action.slice(0, colon), name: action.slice(colon + 1) };
}

/** The read verb an action name (or the literal start of a pattern, before its first wildcard) starts with. */
export function readVerb(name: string): string | undefined {
  // Longest verb first, so `BatchGetItem` is `BatchGet`, not undefined.
  return [...READ_VERBS]
    .sort((a, b) => b.length - a.length)
    .find((verb) => {
      if (name.length < verb.length || name.slice(0, verb.length).toLowerCase() !== verb.toLowerCase()) return false;
      // The verb must end a word: `Issue` does not start with `Is`.
      const next = name[verb.length];
      return next === undefined || /[A-Z0-9]/.test(next);
    });
}

/** Classifies an action or an action pattern (`s3:Get*`, `*`); see the module comment for the rules. */
export function classifyAction(action: string): ActionClass {
  const { service, name } = splitAction(action.trim());
  if (/[*?]/.test(service)) return 'write';
  const pattern = `${service}:${name}`.toLowerCase();
  const wildcard = name.search(/[*?]/);
  // Listed first: some data reads have no read verb (`codecommit:GitPull`, `dynamodb:PartiQLSelect`).
  if (wildcard === -1 && DATA_READ_ACTIONS.some((known) => known.toLowerCase() === pattern)) return 'data-read';
  // The literal start of a pattern must hold a whole read verb, else the pattern can match a write.
  const verb = readVerb(wildcard === -1 ? name : name.slice(0, wildcard));
  if (verb === undefined) return 'write';
  if (DATA_READ_VERBS.some((v) => v.toLowerCase() === verb.toLowerCase())) return 'data-read';
  const coversData = wildcard !== -1 && DATA_READ_ACTIONS.some((known) => wildcardMatch(pattern, known.toLowerCase()));
  return coversData ? 'data-read' : 'metadata-read';
}

/** Whether any action a pattern matches writes. */
export function isWriteAction(action: string): boolean {
  return classifyAction(action) === 'write';
}

/**
 * IAM writes that let a principal grant itself more: attach or write a policy, change a policy's
 * default version, edit a trust policy, pass a role, remove a boundary, mint credentials of a user.
 * Any of them on every role or policy is administrator in effect.
 */
export const IAM_ESCALATION_ACTIONS: readonly string[] = [
  'iam:AttachRolePolicy',
  'iam:AttachUserPolicy',
  'iam:AttachGroupPolicy',
  'iam:PutRolePolicy',
  'iam:PutUserPolicy',
  'iam:PutGroupPolicy',
  'iam:CreatePolicyVersion',
  'iam:SetDefaultPolicyVersion',
  'iam:UpdateAssumeRolePolicy',
  'iam:PassRole',
  'iam:CreateRole',
  'iam:CreateUser',
  'iam:AddUserToGroup',
  'iam:CreateAccessKey',
  'iam:CreateLoginProfile',
  'iam:UpdateLoginProfile',
  'iam:DeleteRolePermissionsBoundary',
  'iam:DeleteUserPermissionsBoundary',
  'iam:PutRolePermissionsBoundary',
  'iam:PutUserPermissionsBoundary',
];

/** Whether a pattern matches an action, as IAM matches actions (case-insensitive wildcards). */
export function actionMatches(pattern: string, action: string): boolean {
  return wildcardMatch(pattern.toLowerCase(), action.toLowerCase());
}
