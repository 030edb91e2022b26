/**
 * The fields of the configuration, declared once: the validator takes its known, required and
 * optional fields (and the examples of its "is required" messages) from here, and the JSON Schema
 * that editors read (`config/schema.json`) is generated from the same declarations, so the two cannot
 * drift. The validator keeps its own precise checks and messages; the schema gives completion and
 * flags typos while typing.
 */
import { DOCUMENT_FIELDS, STATEMENT_FIELDS } from '../iam/grammar';
import { BASE_CONDITION_OPERATORS, LEGACY_POLICY_VERSION, POLICY_VERSION } from '../iam/policy';
import { BITBUCKET_RULES } from '../bitbucket/protocol';
import { LIMITS, RULES, ValueRule } from '../iam/rules';
import { STATE_KEY_LAYOUTS } from './types';

/** A JSON Schema (draft-07) fragment. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** One field: what it is for people, its schema, and an example for "is required" messages. */
export interface FieldSpec {
  readonly description: string;
  readonly schema: JsonSchema;
  /** Shown after "is required, e.g." @default - none */
  readonly example?: string;
}

/** The fields of one JSON object. */
export interface ObjectSpec {
  readonly description: string;
  readonly required: Readonly<Record<string, FieldSpec>>;
  readonly optional: Readonly<Record<string, FieldSpec>>;
  /** A further JSON Schema constraint, e.g. one of two optional fields is needed. @default - none */
  readonly anyOf?: JsonSchema;
}

const field = (description: string, schema: JsonSchema, example?: string): FieldSpec => ({
  description,
  schema,
  ...(example === undefined ? {} : { example }),
});

/** A string, with the rule's pattern when it has one. */
function text(rule?: ValueRule): JsonSchema {
  return {
    type: 'string',
    ...(rule?.regex === undefined ? {} : { pattern: rule.regex.source }),
    ...(rule === undefined ? {} : { examples: [rule.example] }),
  };
}
const list = (items: JsonSchema, minItems = 0, maxItems?: number): JsonSchema => ({
  type: 'array',
  items,
  ...(minItems > 0 ? { minItems } : {}),
  ...(maxItems === undefined ? {} : { maxItems }),
});
const ref = (name: string): JsonSchema => ({ $ref: `#/definitions/${name}` });
const TAGS: JsonSchema = {
  type: 'object',
  maxProperties: LIMITS.tagsPerRole,
  propertyNames: text(RULES.tagKey),
  additionalProperties: text(RULES.tagValue),
};
/** An environment: its name (as in Repository settings > Deployments) or UUID, or an object with either or both. */
const ENVIRONMENT: JsonSchema = {
  oneOf: [{ type: 'string', minLength: 1, examples: ['Production', BITBUCKET_RULES.uuid.example] }, ref('environment')],
};
/**
 * A reference by UUID or name needs one of the two. Each branch names its property again so that
 * strict validators (Ajv's strictRequired) see it defined where it is required.
 */
const UUID_OR_NAME: JsonSchema = {
  anyOf: [
    { properties: { uuid: true }, required: ['uuid'] },
    { properties: { name: true }, required: ['name'] },
  ],
};
const STRING_OR_LIST: JsonSchema = { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] };

export const FIELDS = {
  top: {
    description: 'Keyless AWS access for Bitbucket Pipelines: the workspace, where state lives, the pipeline and the accounts.',
    required: {
      workspace: field(
        'Workspace ID (slug) as in bitbucket.org/<workspace>, or the issuer URL from Repository settings > OpenID Connect.',
        { type: 'string', examples: ['acme'] },
        '"acme"',
      ),
      state: field(
        'Where the stacks keep their Terraform state (S3, encrypted, locked).',
        ref('state'),
        '{"bucket": "acme-terraform-state", "region": "eu-west-1"}',
      ),
      accounts: field(
        'One entry per AWS account: each becomes a bootstrap and a workload stack.',
        list(ref('account'), 1),
        '[{"name": "production", "accountId": "123456789012", "region": "eu-west-1", "roles": [...]}]',
      ),
    },
    optional: {
      workspaceUuid: field(
        'Workspace UUID (Repository settings > OpenID Connect; braces and upper case accepted); leave it out to take it from the lock file (npm run resolve).',
        text(BITBUCKET_RULES.uuid),
      ),
      audiences: field('Custom audiences configured in Bitbucket, accepted besides the workspace audience.', list(text(RULES.audience))),
      thumbprints: field('OIDC provider thumbprints (not needed for Bitbucket).', list(text(RULES.thumbprint), 0, LIMITS.thumbprints)),
      trustPolicyMaxSize: field(
        "The accounts' role trust policy size quota (characters without whitespace); raise it only after AWS raised the quota.",
        {
          type: 'integer',
          minimum: LIMITS.trustPolicySize,
          maximum: LIMITS.trustPolicySizeMax,
          default: LIMITS.trustPolicySize,
        },
      ),
      tags: field('Default tags of every resource.', TAGS),
      pipeline: field(
        "The repository whose pipeline plans and applies the workload stacks; each account's bootstrap stack creates its plan and deploy roles.",
        ref('pipeline'),
      ),
    },
  },
  state: {
    description: 'Remote state in S3: one key per stack.',
    required: {
      bucket: field('S3 bucket of the state (versioned, encrypted).', text(RULES.bucket), '"acme-terraform-state"'),
      region: field('Region of the bucket.', text(RULES.region), '"eu-west-1"'),
    },
    optional: {
      keyPrefix: field('Prefix of the state keys: <keyPrefix>/<account ID or name>/<bootstrap|workload>.tfstate.', {
        ...text(RULES.keyPrefix),
        default: 'bitbucket-oidc',
      }),
      keyLayout: field(
        'What names each account\'s folder of state keys: its 12-digit ID (account-id: one set of bucket policy statements serves every account, 100 accounts and more per bucket) or its name (account-name: the original layout, about a dozen accounts per bucket). See "Many accounts in one state bucket" to move existing state.',
        { enum: [...STATE_KEY_LAYOUTS], default: STATE_KEY_LAYOUTS[0] },
      ),
      account: field(
        'Name of the account (one of accounts[].name) whose bootstrap stack creates and manages the bucket; without it the bucket is managed outside this project.',
        text(RULES.accountName),
      ),
      encryption: field(
        "Default encryption of the bucket: SSE-S3, SSE-KMS (the state account's bootstrap stack creates the key; needs account), or an existing key of the bucket's region.",
        {
          oneOf: [{ enum: ['SSE-S3', 'SSE-KMS'] }, ref('stateKmsKey')],
          default: 'SSE-S3',
        },
      ),
      noncurrentVersionExpirationDays: field('Days after which a replaced version of a state object is deleted; needs account.', {
        type: 'integer',
        minimum: 1,
        maximum: 3650,
        default: 90,
      }),
    },
  },
  stateKmsKey: {
    description:
      'An existing KMS key of the bucket\'s region that you manage; its key policy must let the pipeline roles use it through S3 (see docs/pipeline.md, "An existing KMS key").',
    required: {
      kmsKeyArn: field(
        'ARN of the key (not an alias).',
        {
          type: 'string',
          pattern: '^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]+$',
          examples: ['arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
        },
        '"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"',
      ),
    },
    optional: {},
  },
  pipeline: {
    description: 'The pipeline that runs this project: its repository and the names of its roles.',
    required: {
      repository: field("The repository of this project's pipeline.", ref('pipelineRepository'), '{"name": "acme/infra"}'),
    },
    optional: {
      planRoleName: field('Name of the plan role (every step of the repository; reads only).', {
        ...text(RULES.roleName),
        default: 'bitbucket-plan',
      }),
      deployRoleName: field("Name of the deploy role (deployment steps of the account's environment).", {
        ...text(RULES.roleName),
        default: 'bitbucket-deploy',
      }),
      rolePath: field('IAM path of the pipeline roles, outside every workload path.', {
        type: 'string',
        default: '/bitbucket-pipeline/',
        examples: ['/bitbucket-pipeline/'],
      }),
    },
  },
  pipelineRepository: {
    description: 'A repository, by name (workspace/slug, resolved by npm run resolve) or UUID.',
    required: {},
    optional: {
      name: field('Full name, workspace/slug; without uuid, npm run resolve looks its UUID up.', {
        type: 'string',
        examples: ['acme/infra'],
      }),
      uuid: field('Repository UUID (Repository settings > OpenID Connect).', text(BITBUCKET_RULES.uuid)),
    },
    anyOf: UUID_OR_NAME,
  },
  account: {
    description: 'An AWS account that trusts the workspace.',
    required: {
      name: field('Short name: names the stacks and their state keys.', text(RULES.accountName), '"production"'),
      accountId: field('12-digit account ID, as a string.', text(RULES.accountId), '"123456789012"'),
      region: field('Region of the AWS provider (IAM is global).', text(RULES.region), '"eu-west-1"'),
    },
    optional: {
      roles: field('Workload roles of this account: at least one unless there is a pipeline section.', list(ref('role'))),
      existingProviderArn: field(
        "ARN of the workspace's provider when the account already has one (AWS allows one per issuer).",
        text(RULES.oidcProviderArn),
      ),
      tags: field("Extra default tags for this account's resources.", TAGS),
      deploymentEnvironment: field(
        "The deployment environment whose steps may apply this account (the deploy role's trust); required with pipeline.",
        ENVIRONMENT,
      ),
      workloadPath: field('IAM path of the workload roles, the only path the deploy role may manage; not /.', {
        type: 'string',
        default: '/bitbucket/',
        examples: ['/bitbucket/'],
      }),
      permissionsBoundary: field(
        'The boundary every workload role carries: created (name, allowed actions), or an existing policy by ARN.',
        {
          oneOf: [ref('boundaryCreated'), ref('boundaryExisting')],
        },
      ),
    },
  },
  environment: {
    description: 'A deployment environment, by name (as in Repository settings > Deployments, resolved by npm run resolve) or UUID.',
    required: {},
    optional: {
      name: field("The environment's name; without uuid, npm run resolve looks its UUID up.", {
        type: 'string',
        minLength: 1,
        examples: ['Production'],
      }),
      uuid: field('Deployment environment UUID.', text(BITBUCKET_RULES.uuid)),
    },
    anyOf: UUID_OR_NAME,
  },
  boundaryCreated: {
    description: 'A permissions boundary the bootstrap stack creates.',
    required: {},
    optional: {
      name: field('Policy name.', { ...text(RULES.policyName), default: 'bitbucket-workload-boundary' }),
      allowedActions: field('What workload roles may ever hold; IAM escalation is denied whatever it says.', {
        ...list(text(RULES.action), 1),
        default: ['*'],
      }),
    },
  },
  boundaryExisting: {
    description: 'An existing customer-managed policy of the account, used as the boundary.',
    required: {
      arn: field(
        'ARN of the policy.',
        {
          type: 'string',
          pattern: '^arn:aws[a-z-]*:iam::\\d{12}:policy/',
          examples: ['arn:aws:iam::123456789012:policy/platform-boundary'],
        },
        '"arn:aws:iam::123456789012:policy/platform-boundary"',
      ),
    },
    optional: {},
  },
  role: {
    description: 'A workload role that pipelines of other repositories assume.',
    required: { name: field('IAM role name.', text(RULES.roleName), '"bitbucket-deploy"') },
    optional: {
      repositories: field(
        'Repositories (and deployment environments) allowed; required unless allowAllRepositories.',
        list(ref('repository'), 1),
      ),
      allowAllRepositories: field('Trust every repository of the workspace (discouraged).', { type: 'boolean', default: false }),
      audiences: field("Audiences the role accepts, among the workspace's.", list(text(RULES.audience), 1)),
      sourceIpCidrs: field(
        'Only accept the assume call from these CIDR blocks (aws:SourceIp).',
        list({ type: 'string', examples: [RULES.cidr.example] }, 1),
      ),
      managedPolicyArns: field('Managed policies to attach.', list(text(RULES.managedPolicyArn), 0, LIMITS.managedPoliciesPerRole)),
      inlinePolicies: field('Inline policies by name: an IAM policy document as AWS writes it, or the path of a .json file holding one.', {
        type: 'object',
        propertyNames: text(RULES.policyName),
        additionalProperties: { oneOf: [ref('policyDocument'), { type: 'string', pattern: '\\.json$' }] },
      }),
      maxSessionDurationSeconds: field('Longest session, in seconds.', {
        type: 'integer',
        minimum: LIMITS.minSessionDuration,
        maximum: LIMITS.maxSessionDuration,
        default: LIMITS.minSessionDuration,
      }),
      path: field("IAM path, under the account's workloadPath.", { type: 'string', examples: ['/bitbucket/'] }),
      description: field('Role description.', text(RULES.description)),
      tags: field('Tags of the role.', TAGS),
      suppressions: field('Security findings accepted for this role, each with the reason the synth prints.', list(ref('suppression'))),
    },
  },
  repository: {
    description: 'A repository whose pipelines may assume the role, by name (workspace/slug) or UUID.',
    required: {},
    optional: {
      name: field('Full name, workspace/slug; without uuid, npm run resolve looks its UUID up.', {
        type: 'string',
        examples: ['acme/web'],
      }),
      uuid: field('Repository UUID (Repository settings > OpenID Connect).', text(BITBUCKET_RULES.uuid)),
      environments: field('Deployment environments: only their deployment steps may assume the role.', list(ENVIRONMENT, 1)),
    },
    anyOf: UUID_OR_NAME,
  },
  suppression: {
    description: 'A security finding accepted on one role.',
    required: {
      rule: field("The finding's rule ID.", { type: 'string', pattern: '^BBOIDC-', examples: ['BBOIDC-IAM2'] }, '"BBOIDC-IAM2"'),
      reason: field(
        'Why, for the security review; printed by every synth.',
        { type: 'string', minLength: 1 },
        '"why this role needs it, for the security review"',
      ),
    },
    optional: {},
  },
} satisfies Record<string, ObjectSpec>;

/** The names of an object's fields: required, then optional. */
export function fieldNames(spec: ObjectSpec): { required: string[]; optional: string[]; examples: Record<string, string> } {
  const examples = Object.fromEntries(
    Object.entries({ ...spec.required, ...spec.optional }).flatMap(([name, f]) => (f.example === undefined ? [] : [[name, f.example]])),
  );
  return { required: Object.keys(spec.required), optional: Object.keys(spec.optional), examples };
}

/** An object spec as a JSON Schema: its fields, and nothing else but `//` comments. */
function objectSchema(spec: ObjectSpec): JsonSchema {
  return {
    type: 'object',
    description: spec.description,
    properties: Object.fromEntries(
      Object.entries({ ...spec.required, ...spec.optional }).map(([name, f]) => [name, { description: f.description, ...f.schema }]),
    ),
    ...(Object.keys(spec.required).length === 0 ? {} : { required: Object.keys(spec.required) }),
    ...(spec.anyOf === undefined ? {} : spec.anyOf),
    patternProperties: { '^//': {} },
    additionalProperties: false,
  };
}

/** An IAM policy document as AWS writes it (the grammar checks the rest at synth). */
function policyDocumentSchema(): JsonSchema {
  const operator = `^(ForAnyValue:|ForAllValues:)?(${BASE_CONDITION_OPERATORS.join('|')})(IfExists)?$|^Null$`;
  const statement: JsonSchema = {
    type: 'object',
    properties: {
      Sid: text(RULES.sid),
      Effect: { enum: ['Allow', 'Deny'] },
      Action: STRING_OR_LIST,
      NotAction: STRING_OR_LIST,
      Resource: STRING_OR_LIST,
      NotResource: STRING_OR_LIST,
      Condition: { type: 'object', propertyNames: { pattern: operator }, additionalProperties: { type: 'object' } },
    },
    required: ['Effect'],
    additionalProperties: false,
  };
  if (Object.keys(statement.properties as object).join() !== STATEMENT_FIELDS.join())
    throw new Error('policy statement schema and grammar disagree');
  if (['Version', 'Id', 'Statement'].join() !== DOCUMENT_FIELDS.join()) throw new Error('policy document schema and grammar disagree');
  return {
    type: 'object',
    description: 'An IAM policy document, exactly as aws iam get-role-policy or the console shows it.',
    properties: {
      Version: { enum: [POLICY_VERSION, LEGACY_POLICY_VERSION] },
      Id: { type: 'string' },
      Statement: { oneOf: [statement, { type: 'array', items: statement, minItems: 1 }] },
    },
    required: ['Version', 'Statement'],
    additionalProperties: false,
  };
}

/** The configuration's JSON Schema (draft-07), generated from `FIELDS`. */
export function configSchema(): JsonSchema {
  const { top, ...rest } = FIELDS;
  const root = objectSchema(top);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://bitbucket-oidc-cdktf/config.schema.json',
    title: 'bitbucket-oidc-cdktf configuration',
    ...root,
    properties: { $schema: { type: 'string', description: 'This schema, for editors.' }, ...(root.properties as object) },
    definitions: {
      ...Object.fromEntries(Object.entries(rest).map(([name, spec]) => [name, objectSchema(spec)])),
      policyDocument: policyDocumentSchema(),
    },
  };
}
