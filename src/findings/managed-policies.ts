/**
 * What the rules know about AWS managed policies. Their contents are not visible offline, so the rules
 * go by name, and only for AWS's own policies (`arn:<partition>:iam::aws:policy/...`): a customer
 * managed policy called `ReadOnlyAccess` is not AWS's.
 *
 * The contents quoted below were read from the published policy versions (mirrored by
 * https://github.com/zoph-io/MAMIP); AWS revises managed policies, so the lists are a snapshot.
 *
 * @see https://docs.aws.amazon.com/aws-managed-policy/latest/reference/policy-list.html
 */

/** The name of an AWS managed policy (without its path), or undefined for any other ARN. */
export function awsManagedPolicyName(arn: string): string | undefined {
  const match = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn);
  return match?.[1];
}

/** Policies that allow everything, IAM included. */
export const ADMIN_POLICIES: Readonly<Record<string, string>> = {
  AdministratorAccess: 'allows every action on every resource',
  IAMFullAccess: 'allows iam:*: the role can attach AdministratorAccess to itself, or remove its own permissions boundary',
};

/**
 * Allows every action except IAM, Organizations and Account management: administrator in effect as
 * soon as the role may also write IAM (create a role with AdministratorAccess and pass it to a
 * Lambda function, or attach a policy to itself).
 */
export const POWER_USER_POLICY = 'PowerUserAccess';

/**
 * Policies that read data, not only metadata, with what they read. A role that every pull-request
 * step may assume must not hold them.
 */
export const DATA_READING_POLICIES: Readonly<Record<string, string>> = {
  ReadOnlyAccess: "reads every S3 object, DynamoDB item, SQS message, log event and Lambda function's code",
  // SecurityAudit is sold as metadata, but it includes rds:DownloadDBLogFilePortion (database logs),
  // lambda:GetFunctionConfiguration (environment variables, where secrets often live),
  // codebuild:BatchGetProjects (build environment variables) and cognito-idp:ListUsers (people's emails).
  SecurityAudit: 'reads database log files, Lambda and CodeBuild environment variables and Cognito user lists',
  AmazonS3ReadOnlyAccess: 'reads every S3 object of the account (s3:Get* on *)',
  AmazonDynamoDBReadOnlyAccess: 'reads every DynamoDB item (dynamodb:GetItem, Query and Scan on *)',
  AmazonSSMReadOnlyAccess: 'reads every Parameter Store value, SecureString included (ssm:Get* on *)',
  CloudWatchLogsReadOnlyAccess: 'reads every log event (logs:Get* and FilterLogEvents on *)',
  AWSLambda_ReadOnlyAccess: "reads every Lambda function's code and environment variables (lambda:Get* on *)",
  AmazonRDSReadOnlyAccess: 'reads every log event (logs:GetLogEvents on *)',
  AmazonKinesisReadOnlyAccess: 'reads every Kinesis record (kinesis:Get* on *)',
  AmazonEC2ContainerRegistryReadOnly: 'pulls every container image of the account (ecr:BatchGetImage on *)',
  AWSCodeCommitReadOnly: 'reads every CodeCommit repository (codecommit:Get* and GitPull on *)',
};

/**
 * Policies that read metadata only, which a plan role for every step may hold.
 *
 * - `ViewOnlyAccess` (job function) lists and describes resources: no `s3:GetObject`, no
 *   `dynamodb:GetItem`, no secrets, no log events. It does list object keys (`s3:ListBucket`) and,
 *   through `ec2:DescribeInstance*`, can read EC2 user data: keep secrets out of user data.
 * - `AmazonSQSReadOnlyAccess` gets queue attributes and lists queues; it cannot receive messages.
 *
 * `SecurityAudit` is not here: see {@link DATA_READING_POLICIES}.
 */
export const METADATA_ONLY_POLICIES: readonly string[] = ['ViewOnlyAccess', 'AmazonSQSReadOnlyAccess'];
