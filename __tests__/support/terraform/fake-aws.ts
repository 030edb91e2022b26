/**
 * What the stub provider does with values: a plan leaves computed attributes unknown (except
 * `tags_all`, which the real provider also knows at plan time), and an apply echoes the plan with
 * plausible values for the unknowns: ARNs built from the provider's account and region, IDs as the
 * real provider forms them, a fixed creation date. Everything is deterministic, so two applies of
 * the same configuration give the same state.
 *
 * A resource type needing a special value is one entry in `ARNS` / `IDS`; anything else gets a
 * generic value of its type.
 */
import { createHash } from 'crypto';
import { BlockSchema, CtyType } from './schema';
import { containsUnknown, ObjectValue, UNKNOWN, Value } from './values';

/** What `ConfigureProvider` told the stub. */
export interface ProviderSettings {
  readonly accountId: string;
  readonly region: string;
  readonly defaultTags: Record<string, string>;
}

/** Used when the provider configuration pins no account: AWS's documentation account. */
export const DEFAULT_ACCOUNT_ID = '123456789012';

/** Reads the settings the fake needs from the provider configuration. */
export function providerSettings(config: Value): ProviderSettings {
  const c = (config ?? {}) as ObjectValue;
  const accounts = Array.isArray(c.allowed_account_ids) ? c.allowed_account_ids.filter((a): a is string => typeof a === 'string') : [];
  const defaultTags = Array.isArray(c.default_tags) ? ((c.default_tags[0] as ObjectValue | undefined)?.tags ?? {}) : {};
  return {
    accountId: [...accounts].sort()[0] ?? DEFAULT_ACCOUNT_ID,
    region: typeof c.region === 'string' ? c.region : 'us-east-1',
    defaultTags: (defaultTags ?? {}) as Record<string, string>,
  };
}

/** The planned state: the proposed state, with computed attributes that nothing sets unknown. */
export function plan(typeName: string, schema: BlockSchema, proposed: Value, config: Value, settings: ProviderSettings): Value {
  if (proposed === null) return null; // destroy
  const planned = { ...(proposed as ObjectValue) };
  const configured = (config ?? {}) as ObjectValue;
  for (const attribute of schema.attributes) {
    if (!attribute.computed || (configured[attribute.name] ?? null) !== null) continue;
    if (attribute.name === 'tags_all') {
      planned.tags_all = tagsAll(settings.defaultTags, planned.tags);
    } else if ((planned[attribute.name] ?? null) === null) {
      planned[attribute.name] = UNKNOWN;
    }
  }
  for (const nested of schema.blockTypes) {
    planned[nested.typeName] = mapBlocks(planned[nested.typeName] ?? null, (item) => plan(typeName, nested.block, item, null, settings));
  }
  return planned;
}

/** The new state: the planned state with every unknown value filled in. */
export function apply(typeName: string, schema: BlockSchema, planned: Value, settings: ProviderSettings): Value {
  if (planned === null) return null; // destroyed
  const state = { ...(planned as ObjectValue) };
  const context = { typeName, state, planned: planned as ObjectValue, settings };
  for (const attribute of schema.attributes) {
    if (containsUnknown(state[attribute.name] ?? null)) state[attribute.name] = fill(state[attribute.name] ?? null, attribute.type, attribute.name, context);
  }
  for (const nested of schema.blockTypes) {
    state[nested.typeName] = mapBlocks(state[nested.typeName] ?? null, (item) => apply(typeName, nested.block, item, settings));
  }
  return state;
}

/** The state a data source reads: its configuration with the computed attributes filled in. */
export function read(typeName: string, schema: BlockSchema, config: Value, settings: ProviderSettings): Value {
  return apply(typeName, schema, plan(typeName, schema, config, config, settings), settings);
}

/** The state `terraform import` starts from: the ID, the rest unknown until read. */
export function imported(schema: BlockSchema, id: string): ObjectValue {
  return Object.fromEntries(schema.attributes.map((a) => [a.name, a.name === 'id' ? id : null]));
}

function tagsAll(defaults: Record<string, string>, tags: Value | undefined): Value {
  if (tags === UNKNOWN) return UNKNOWN;
  const merged = { ...defaults, ...((tags ?? {}) as Record<string, string>) };
  return Object.keys(merged).length === 0 ? null : merged;
}

function mapBlocks(value: Value, fn: (item: Value) => Value): Value {
  if (value === null || value === UNKNOWN) return value;
  return Array.isArray(value) ? value.map(fn) : fn(value);
}

interface Context {
  readonly typeName: string;
  /** The state being filled in. */
  readonly state: ObjectValue;
  /** The planned state, unchanged: what generated values derive from. */
  readonly planned: ObjectValue;
  readonly settings: ProviderSettings;
}

function fill(value: Value, type: CtyType, name: string, context: Context): Value {
  if (value !== UNKNOWN) {
    if (Array.isArray(value) && Array.isArray(type)) return value.map((v) => fill(v, type[1] as CtyType, name, context));
    if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && Array.isArray(type)) {
      const object = value as ObjectValue;
      const [kind, element] = type;
      return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, fill(v, kind === 'object' ? (element as Record<string, CtyType>)[k] : (element as CtyType), k, context)]));
    }
    return value;
  }
  if (type === 'string') return fakeString(name, context);
  if (type === 'number') return 0;
  if (type === 'bool') return false;
  if (type === 'dynamic') return null;
  const [kind, element] = type;
  if (kind === 'list' || kind === 'set') return [];
  if (kind === 'map') return {};
  return Object.fromEntries(Object.entries(element as Record<string, CtyType>).map(([k, t]) => [k, fill(UNKNOWN, t, k, context)]));
}

const str = (value: Value | undefined, fallback = ''): string => (typeof value === 'string' ? value : fallback);

/** ARNs by resource type, as AWS forms them. */
const ARNS: Record<string, (s: ObjectValue, p: ArnParts) => string> = {
  aws_iam_role: (s, p) => `arn:${p.partition}:iam::${p.account}:role${str(s.path, '/')}${str(s.name)}`,
  aws_iam_policy: (s, p) => `arn:${p.partition}:iam::${p.account}:policy${str(s.path, '/')}${str(s.name)}`,
  aws_iam_openid_connect_provider: (s, p) => `arn:${p.partition}:iam::${p.account}:oidc-provider/${str(s.url).replace(/^https:\/\//, '')}`,
  aws_s3_bucket: (s, p) => `arn:${p.partition}:s3:::${str(s.bucket)}`,
  aws_kms_key: (_s, p) => `arn:${p.partition}:kms:${p.region}:${p.account}:key/${p.id()}`,
  aws_kms_alias: (s, p) => `arn:${p.partition}:kms:${p.region}:${p.account}:${str(s.name)}`,
  aws_caller_identity: (_s, p) => `arn:${p.partition}:iam::${p.account}:user/terraform-stub`,
};

/** IDs by resource type, as the real provider forms them. */
const IDS: Record<string, (s: ObjectValue, c: Context) => string> = {
  aws_iam_role: (s) => str(s.name),
  aws_iam_policy: (_s, c) => arn(c),
  aws_iam_openid_connect_provider: (_s, c) => arn(c),
  aws_iam_role_policy: (s) => `${str(s.role)}:${str(s.name)}`,
  aws_iam_role_policy_attachment: (s, c) => `${str(s.role)}-${digest(c, 26)}`,
  aws_s3_bucket: (s) => str(s.bucket),
  aws_s3_bucket_versioning: (s) => str(s.bucket),
  aws_s3_bucket_server_side_encryption_configuration: (s) => str(s.bucket),
  aws_s3_bucket_public_access_block: (s) => str(s.bucket),
  aws_s3_bucket_policy: (s) => str(s.bucket),
  aws_kms_key: (_s, c) => uuid(digest(c, 32)),
  aws_caller_identity: (_s, c) => c.settings.accountId,
};

interface ArnParts {
  readonly partition: string;
  readonly account: string;
  readonly region: string;
  /** The resource's ID (lazy: some IDs are the ARN). */
  readonly id: () => string;
}

function partition(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

function id(context: Context): string {
  const known = context.state.id;
  if (typeof known === 'string') return known;
  return IDS[context.typeName]?.(context.state, context) ?? str(context.state.name, `${context.typeName.replace(/^aws_/, '')}-${digest(context, 12)}`);
}

function arn(context: Context): string {
  const { typeName, state, settings } = context;
  const region = str(state.region, settings.region);
  const parts = { partition: partition(region), account: settings.accountId, region, id: () => id(context) };
  const build = ARNS[typeName];
  if (build !== undefined) return build(state, parts);
  const [service, ...rest] = typeName.replace(/^aws_/, '').split('_');
  return `arn:${parts.partition}:${service}:${region}:${parts.account}:${rest.join('-') || service}/${parts.id()}`;
}

function fakeString(name: string, context: Context): string {
  const { state, settings } = context;
  switch (name) {
    case 'id':
      return id(context);
    case 'arn':
      return arn(context);
    case 'region':
      return settings.region;
    case 'account_id':
      return settings.accountId;
    case 'unique_id':
      return `AROA${digest(context, 17).toUpperCase()}`;
    case 'json':
    case 'minified_json':
      return context.typeName === 'aws_iam_policy_document' ? policyDocument(state, name === 'json' ? 2 : 0) : `{}`;
    case 'user_id':
      return `AIDA${digest(context, 17).toUpperCase()}`;
    default:
      return /(^|_)date$|_at$/.test(name) ? '2026-01-01T00:00:00Z' : `${name}-${digest(context, 8)}`;
  }
}

/** A short hex digest of the resource's type and planned arguments: stable across runs. */
function digest(context: Context, length: number): string {
  const known = Object.fromEntries(Object.entries(context.planned).filter(([, v]) => typeof v === 'string' || typeof v === 'number'));
  return createHash('sha256').update(context.typeName).update(JSON.stringify(known)).digest('hex').slice(0, length);
}

function uuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * `aws_iam_policy_document`'s JSON, as the provider renders it: one value stays a string, several
 * become a list; principals and conditions grouped by type and test. (`source_policy_documents` and
 * `override_policy_documents` are not merged in.)
 */
function policyDocument(state: ObjectValue, indent: number): string {
  const one = (values: Value | undefined) => {
    const list = Array.isArray(values) ? (values as string[]) : [];
    return list.length === 1 ? list[0] : list.length === 0 ? undefined : list;
  };
  const principals = (blocks: Value | undefined) => {
    const list = (Array.isArray(blocks) ? blocks : []) as ObjectValue[];
    if (list.length === 0) return undefined;
    return Object.fromEntries(list.map((p) => [str(p.type), one(p.identifiers)]));
  };
  const statements = ((Array.isArray(state.statement) ? state.statement : []) as ObjectValue[]).map((s) => {
    const conditions: Record<string, Record<string, unknown>> = {};
    for (const c of (Array.isArray(s.condition) ? s.condition : []) as ObjectValue[]) {
      (conditions[str(c.test)] ??= {})[str(c.variable)] = one(c.values);
    }
    const statement = {
      Sid: str(s.sid) || undefined,
      Effect: str(s.effect, 'Allow'),
      Action: one(s.actions),
      NotAction: one(s.not_actions),
      Resource: one(s.resources),
      NotResource: one(s.not_resources),
      Principal: principals(s.principals),
      NotPrincipal: principals(s.not_principals),
      Condition: Object.keys(conditions).length === 0 ? undefined : conditions,
    };
    return Object.fromEntries(Object.entries(statement).filter(([, v]) => v !== undefined));
  });
  return JSON.stringify({ Version: str(state.version, '2012-10-17'), ...(state.policy_id ? { Id: state.policy_id } : {}), Statement: statements }, null, indent);
}
