/**
 * The configuration reference of `docs/configuration.md`, rendered from the field declarations
 * (`FIELDS`) that the validator and the JSON Schema read, as terraform-docs renders a module's inputs:
 * one row per field, nested objects and list items by path (`accounts[].roles[].name`). A rule the
 * declarations take from `RULES` is shown in the validator's own words. `npm run docs` writes it
 * between the markers; a test fails when the committed table drifts.
 */
import { BITBUCKET_RULES } from '../bitbucket/protocol';
import { RULES } from '../iam/rules';
import { FIELDS, FieldSpec, JsonSchema, ObjectSpec } from './fields';

/** The markers around the generated table in `docs/configuration.md`. */
export const CONFIG_REFERENCE_MARKERS = { start: '<!-- config-reference:start -->', end: '<!-- config-reference:end -->' } as const;

type SpecName = keyof typeof FIELDS;
const SPECS: Readonly<Record<string, ObjectSpec>> = FIELDS;
const REF = '#/definitions/';

/** One row of the reference. */
export interface ConfigReferenceRow {
  /** `accounts[].roles[].name`. */
  readonly field: string;
  readonly type: string;
  /** `required`, the default as JSON, or `none`. */
  readonly default: string;
  /** What it is, its rules and an example. */
  readonly rule: string;
}

const refName = (schema: JsonSchema): string | undefined =>
  typeof schema.$ref === 'string' && schema.$ref.startsWith(REF) ? schema.$ref.slice(REF.length) : undefined;
const alternatives = (schema: JsonSchema): JsonSchema[] => (Array.isArray(schema.oneOf) ? (schema.oneOf as JsonSchema[]) : [schema]);
const code = (value: string): string => `\`${value}\``;

/** A type as a reader says it: `string`, `object[]`, `(string or object)[]`. */
function typeName(schema: JsonSchema): string {
  const ref = refName(schema);
  if (ref !== undefined) return ref === 'policyDocument' ? 'policy document' : 'object';
  if (Array.isArray(schema.oneOf)) return [...new Set((schema.oneOf as JsonSchema[]).map(typeName))].join(' or ');
  if (Array.isArray(schema.enum)) return 'string';
  if (schema.type === 'array') {
    const item = typeName(schema.items as JsonSchema);
    return item.includes(' ') ? `(${item})[]` : `${item}[]`;
  }
  return String(schema.type);
}

/** The rule of a pattern in the validator's words, when `RULES` or `BITBUCKET_RULES` declares it; else the pattern. */
function patternRule(pattern: string): string {
  const rule = [...Object.values(RULES), ...Object.values(BITBUCKET_RULES)].find((r) => 'regex' in r && r.regex?.source === pattern);
  return rule === undefined ? `must match ${code(pattern)}` : `must ${rule.rule}`;
}

/** The checks a schema states, as phrases: `3600-43200`, `at most 20`, `each must be ...`. */
function constraints(schema: JsonSchema): string[] {
  const found: string[] = [];
  if (Array.isArray(schema.enum)) found.push(`one of ${(schema.enum as string[]).map((v) => code(v)).join(', ')}`);
  if (typeof schema.pattern === 'string') found.push(patternRule(schema.pattern));
  if (typeof schema.minimum === 'number' && typeof schema.maximum === 'number') found.push(`${schema.minimum}-${schema.maximum}`);
  if (schema.minLength === 1) found.push('not empty');
  if (typeof schema.minItems === 'number') found.push(`at least ${schema.minItems}`);
  if (typeof schema.maxItems === 'number') found.push(`at most ${schema.maxItems}`);
  if (typeof schema.maxProperties === 'number') found.push(`at most ${schema.maxProperties} entries`);
  if (schema.propertyNames !== undefined) found.push(...constraints(schema.propertyNames as JsonSchema).map((c) => `keys ${c}`));
  if (typeof schema.additionalProperties === 'object') {
    const values = alternatives(schema.additionalProperties as JsonSchema).filter((s) => refName(s) === undefined);
    found.push(...values.flatMap(constraints).map((c) => `values ${c}`));
  }
  if (schema.type === 'array')
    found.push(
      ...alternatives(schema.items as JsonSchema)
        .flatMap(constraints)
        .map((c) => `each ${c}`),
    );
  if (Array.isArray(schema.oneOf)) found.push(...(schema.oneOf as JsonSchema[]).flatMap(constraints));
  return found;
}

/** An example for the reader: the declaration's own, else the schema's first. */
function example(spec: FieldSpec): string | undefined {
  if (spec.example !== undefined) return spec.example;
  const first = (s: JsonSchema): unknown =>
    Array.isArray(s.examples) ? s.examples[0] : s.type === 'array' ? first(s.items as JsonSchema) : undefined;
  const found = first(spec.schema);
  return found === undefined ? undefined : JSON.stringify(found);
}

/** The object specs a field's value may be (through `oneOf` and list items), to descend into. */
function nested(schema: JsonSchema): SpecName[] {
  const inner = schema.type === 'array' ? (schema.items as JsonSchema) : schema;
  return alternatives(inner).flatMap((s) => {
    const ref = refName(s);
    return ref !== undefined && ref in SPECS ? [ref as SpecName] : [];
  });
}

function rowsOf(spec: ObjectSpec, prefix: string): ConfigReferenceRow[] {
  const fields = [
    ...Object.entries(spec.required).map(([name, f]) => ({ name, f, required: true })),
    ...Object.entries(spec.optional).map(([name, f]) => ({ name, f, required: false })),
  ];
  return fields.flatMap(({ name, f, required }) => {
    const field = `${prefix}${name}`;
    const rules = constraints(f.schema).join('; ');
    // A default is the example; a rule's generic example would only mislead next to it.
    const shown = f.schema.default === undefined ? example(f) : undefined;
    const rule = [
      f.description,
      ...(rules === '' ? [] : [`${rules[0].toUpperCase()}${rules.slice(1)}.`]),
      ...(shown === undefined ? [] : [`E.g. ${code(shown)}.`]),
    ].join(' ');
    const row: ConfigReferenceRow = {
      field,
      type: typeName(f.schema),
      default: required ? 'required' : f.schema.default === undefined ? 'none' : code(JSON.stringify(f.schema.default)),
      rule,
    };
    const below = `${field}${f.schema.type === 'array' ? '[]' : ''}.`;
    return [row, ...nested(f.schema).flatMap((name) => rowsOf(SPECS[name], below))];
  });
}

/** Every field of the configuration, top-level first, each followed by the fields of its objects. */
export function configReferenceRows(): ConfigReferenceRow[] {
  return rowsOf(FIELDS.top, '');
}

/** A table cell: pipes escaped everywhere, angle brackets outside code spans. */
function cell(text: string): string {
  return text
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('`')
    .replace(/\|/g, '\\|');
}

/** The reference as a Markdown table (no trailing newline). */
export function configReferenceMarkdown(): string {
  const lines = ['| Field | Type | Default | What it is, rules, example |', '| --- | --- | --- | --- |'];
  for (const row of configReferenceRows())
    lines.push(`| ${code(row.field)} | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.rule)} |`);
  return lines.join('\n');
}

/** `text` with the reference between its markers replaced by `table`; throws when a marker is missing. */
export function withConfigReference(text: string, table = configReferenceMarkdown()): string {
  const { start, end } = CONFIG_REFERENCE_MARKERS;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no ${start} ... ${end} markers`);
  return `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`;
}
