/**
 * Terraform schemas of the stub `hashicorp/aws` provider, derived from the installed
 * `@cdktf/provider-aws` bindings (generated from the real provider's schema), so that the stub
 * accepts exactly the arguments the real provider accepts for the types it serves.
 *
 * What the bindings tell, and where:
 * - `synthesizeHclAttributes()` / `<struct>ToHclTerraform()` in `index.js`: every configurable
 *   argument with its kind (`simple`/`list`/`set`/`map`/`struct`), element type
 *   (`storageClassType`) and whether it is a nested block (`isBlock`);
 * - `// <name> - computed: true, optional: false, required: false` comments in `index.js`: the
 *   computed-only attributes (e.g. `arn`), and for blocks whether they are required and single;
 * - `index.d.ts`: required arguments have no `?` in the config interfaces.
 * Lost in the bindings: which optional arguments the provider also computes. `OPTIONAL_COMPUTED`
 * names the ones every AWS resource has.
 */
import { readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import { AttributeSchema, BlockSchema, blockType, CtyType, NestedBlockSchema, ProviderSchemas } from './schema';

/** Optional arguments that the AWS provider computes when they are not set. */
const OPTIONAL_COMPUTED = new Set(['id', 'tags_all', 'region']);

/** Meta-arguments that cdktf lists among a provider's attributes but Terraform handles itself. */
const PROVIDER_META_ARGUMENTS = new Set(['alias']);

/** The bindings package of the stub's provider. */
export function bindingsDir(): string {
  return path.dirname(require.resolve('@cdktf/provider-aws/package.json'));
}

/** `aws_iam_role` -> `iam-role`; data sources: `aws_iam_policy_document` -> `data-aws-iam-policy-document`. */
export function bindingsFolder(typeName: string, kind: 'resource' | 'data'): string {
  const base = typeName.replace(/^aws_/, '').replace(/_/g, '-');
  return kind === 'data' ? `data-aws-${base}` : base;
}

/** Derives the schemas of the provider and of the listed resource and data-source types. */
export function deriveSchemas(types: { resources: readonly string[]; dataSources: readonly string[] }): ProviderSchemas {
  const warnings: string[] = [];
  const provider = deriveBlock(readBindings('provider'), warnings, 'provider');
  const providerVersion = /providerVersion: '([^']+)'/.exec(readBindings('iam-role').js)?.[1];
  if (providerVersion === undefined) throw new Error(`cannot find the provider version in ${bindingsDir()}/lib/iam-role/index.js`);
  return {
    providerVersion,
    provider: {
      ...provider,
      attributes: provider.attributes.filter((a) => !PROVIDER_META_ARGUMENTS.has(a.name)),
    },
    resources: Object.fromEntries(types.resources.map((t) => [t, deriveBlock(readBindings(bindingsFolder(t, 'resource')), warnings, t)])),
    dataSources: Object.fromEntries(types.dataSources.map((t) => [t, deriveBlock(readBindings(bindingsFolder(t, 'data')), warnings, `data.${t}`)])),
    warnings,
  };
}

/** The compiled JS and the declarations of one bindings folder (including any `index-structs/`). */
interface Bindings {
  readonly folder: string;
  readonly js: string;
  readonly dts: string;
}

function readBindings(folder: string): Bindings {
  const dir = path.join(bindingsDir(), 'lib', folder);
  const files = listFiles(dir);
  if (!files.some((f) => f.endsWith('index.js'))) throw new Error(`no bindings for ${folder} in ${dir}`);
  const read = (suffix: string) => files.filter((f) => f.endsWith(suffix)).map((f) => readFileSync(f, 'utf8')).join('\n');
  return { folder, js: read('.js'), dts: read('.d.ts') };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full) : [full];
  });
}

/** One entry of a cdktf `attrs` literal in `synthesizeHclAttributes()` or `<struct>ToHclTerraform()`. */
interface HclEntry {
  readonly name: string;
  readonly value: string;
  readonly isBlock: boolean;
  readonly kind: 'simple' | 'list' | 'set' | 'map' | 'struct';
  readonly storageClassType: string;
}

const HCL_ENTRY = /(\w+): \{\s*value: (.*),\s*isBlock: (true|false),\s*type: "(\w+)",\s*storageClassType: "(\w+)",\s*\}/g;

function hclEntries(code: string): HclEntry[] {
  return [...code.matchAll(HCL_ENTRY)].map((m) => ({
    name: m[1],
    value: m[2],
    isBlock: m[3] === 'true',
    kind: m[4] as HclEntry['kind'],
    storageClassType: m[5],
  }));
}

/** A `// name - computed: ..` comment and the code line(s) after it. */
interface AttributeComment {
  readonly name: string;
  readonly computed: boolean;
  readonly optional: boolean;
  readonly required: boolean;
  readonly code: string;
}

const ATTRIBUTE_COMMENT = /\/\/ (\w+) - computed: (true|false), optional: (true|false), required: (true|false)\n(.*)\n(.*)/g;

function attributeComments(classCode: string): Map<string, AttributeComment> {
  return new Map(
    [...classCode.matchAll(ATTRIBUTE_COMMENT)].map((m) => [
      m[1],
      { name: m[1], computed: m[2] === 'true', optional: m[3] === 'true', required: m[4] === 'true', code: `${m[5].trim()} ${m[6].trim()}` },
    ]),
  );
}

/** The text of `class Name ...` up to `exports.Name = Name;`. */
function classCode(js: string, name: string): string {
  const start = js.indexOf(`\nclass ${name} `);
  if (start < 0) return '';
  const end = js.indexOf(`\nexports.${name} = ${name};`, start);
  return js.slice(start, end < 0 ? undefined : end);
}

/** The text of a top-level `function name(` up to its closing brace at column 0. */
function functionCode(js: string, name: string): string {
  const start = js.indexOf(`\nfunction ${name}(`);
  if (start < 0) return '';
  const end = js.indexOf('\n}\n', start);
  return js.slice(start, end < 0 ? undefined : end);
}

/** Names of `readonly` properties of `interface Name` that have no `?`, as snake_case (from the docs link). */
function requiredNames(dts: string, interfaceName: string): Set<string> {
  const start = dts.search(new RegExp(`\\ninterface ${interfaceName}\\b|\\nexport interface ${interfaceName}\\b`));
  if (start < 0) return new Set();
  const end = dts.indexOf('\n}', start);
  const body = dts.slice(start, end);
  const required = new Set<string>();
  for (const m of body.matchAll(/\/\*\*([\s\S]*?)\*\/\s*readonly (\w+)(\??):/g)) {
    const snake = [...m[1].matchAll(/#(\w+)\}/g)].pop()?.[1];
    if (snake !== undefined && m[3] === '') required.add(snake);
  }
  return required;
}

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The schema of the resource, data source or provider whose bindings are given. */
function deriveBlock(bindings: Bindings, warnings: string[], where: string): BlockSchema {
  const { js, dts } = bindings;
  const synth = /\n {4}synthesizeHclAttributes\(\) \{[\s\S]*?\n {4}\}\n/.exec(js)?.[0];
  if (synth === undefined) throw new Error(`no synthesizeHclAttributes() in the bindings of ${where}`);
  const className = /\nclass (\w+) extends cdktf\.(TerraformResource|TerraformDataSource|TerraformProvider) \{/.exec(js)?.[1];
  if (className === undefined) throw new Error(`no resource class in the bindings of ${where}`);
  return blockFrom(bindings, hclEntries(synth), classCode(js, className), requiredNames(dts, `${className}Config`), warnings, where, true);
}

function blockFrom(
  bindings: Bindings,
  entries: HclEntry[],
  ownerClass: string,
  required: Set<string>,
  warnings: string[],
  where: string,
  topLevel: boolean,
): BlockSchema {
  const comments = attributeComments(ownerClass);
  const attributes: AttributeSchema[] = [];
  const blockTypes: NestedBlockSchema[] = [];
  for (const entry of entries) {
    const nested = nestedFunction(entry.value);
    if (entry.isBlock && nested !== undefined) {
      const comment = comments.get(entry.name);
      const single = comment !== undefined && /OutputReference\(this, "/.test(comment.code);
      blockTypes.push({
        typeName: entry.name,
        nesting: entry.kind === 'struct' ? 'single' : entry.kind === 'set' ? 'set' : 'list',
        block: structBlock(bindings, nested, warnings, `${where}.${entry.name}`),
        minItems: entry.kind !== 'struct' && (comment?.required ?? required.has(entry.name)) ? 1 : 0,
        maxItems: entry.kind !== 'struct' && single ? 1 : 0,
      });
      continue;
    }
    const type = nested === undefined ? configType(entry) : objectCollection(entry, structBlock(bindings, nested, warnings, `${where}.${entry.name}`));
    if (type === undefined) {
      warnings.push(`${where}.${entry.name}: unknown storage class ${entry.kind}/${entry.storageClassType}`);
    }
    const isRequired = required.has(entry.name);
    attributes.push({
      name: entry.name,
      type: type ?? 'dynamic',
      required: isRequired,
      optional: !isRequired,
      computed: topLevel && !isRequired && OPTIONAL_COMPUTED.has(entry.name),
    });
  }
  const configured = new Set(entries.map((e) => e.name));
  for (const comment of comments.values()) {
    if (!comment.computed || comment.optional || comment.required || configured.has(comment.name)) continue;
    const type = computedType(bindings, comment, warnings, `${where}.${comment.name}`);
    attributes.push({ name: comment.name, type, required: false, optional: false, computed: true });
  }
  return { attributes, blockTypes };
}

/** The nested struct function a value expression calls, e.g. `iamRoleInlinePolicyToHclTerraform`. */
function nestedFunction(value: string): string | undefined {
  return /(?:^|[^.\w]|index_structs_1\.)([a-z]\w*ToHclTerraform)\b/.exec(value)?.[1];
}

function structBlock(bindings: Bindings, fn: string, warnings: string[], where: string): BlockSchema {
  const struct = fn.replace(/ToHclTerraform$/, '');
  const code = functionCode(bindings.js, fn);
  if (code === '') warnings.push(`${where}: cannot find ${fn}`);
  return blockFrom(bindings, hclEntries(code), classCode(bindings.js, `${upperFirst(struct)}OutputReference`), requiredNames(bindings.dts, upperFirst(struct)), warnings, where, false);
}

const SCALARS: Record<string, CtyType> = { string: 'string', number: 'number', boolean: 'bool', any: 'dynamic' };

/** `stringListList` -> list(list(string)); the outermost collection is the entry's kind. */
function configType(entry: HclEntry): CtyType | undefined {
  const m = /^(string|number|boolean|any)((?:List|Map)*)$/.exec(entry.storageClassType);
  if (m === null) return undefined;
  const suffixes = (m[2].match(/List|Map/g) ?? []).reverse();
  let type: CtyType = SCALARS[m[1]];
  suffixes.forEach((suffix, i) => {
    const outermost = i === suffixes.length - 1;
    const collection = suffix === 'Map' ? 'map' : outermost && entry.kind === 'set' ? 'set' : 'list';
    type = [collection, type];
  });
  return type;
}

/** A non-block argument made of objects (a framework nested attribute). */
function objectCollection(entry: HclEntry, block: BlockSchema): CtyType {
  const object = blockType(block);
  return entry.kind === 'struct' || entry.kind === 'simple' ? object : [entry.kind === 'map' ? 'map' : entry.kind, object];
}

const GETTERS: [RegExp, CtyType][] = [
  [/Fn\.tolist\(this\.getListAttribute\(/, ['set', 'string']],
  [/Fn\.tolist\(this\.getNumberListAttribute\(/, ['set', 'number']],
  [/this\.getStringAttribute\(/, 'string'],
  [/this\.getNumberAttribute\(/, 'number'],
  [/this\.getBooleanAttribute\(/, 'bool'],
  [/this\.getListAttribute\(/, ['list', 'string']],
  [/this\.getNumberListAttribute\(/, ['list', 'number']],
  [/this\.getStringMapAttribute\(/, ['map', 'string']],
  [/this\.getNumberMapAttribute\(/, ['map', 'number']],
  [/this\.getBooleanMapAttribute\(/, ['map', 'bool']],
  [/this\.getAnyMapAttribute\(/, ['map', 'dynamic']],
  [/new cdktf\.StringMap\(/, ['map', 'string']],
  [/new cdktf\.NumberMap\(/, ['map', 'number']],
  [/new cdktf\.BooleanMap\(/, ['map', 'bool']],
  [/new cdktf\.AnyMap\(/, ['map', 'dynamic']],
  [/this\.interpolationForAttribute\(/, 'dynamic'],
];

/** The type of a computed-only attribute, from its getter or its stored class. */
function computedType(bindings: Bindings, comment: AttributeComment, warnings: string[], where: string): CtyType {
  const stored = /new (\w+)(List|OutputReference|Map)\(this, "\w+"(?:, (true|false))?\)/.exec(comment.code);
  if (stored !== null && !stored[1].startsWith('cdktf')) {
    const element = blockType(computedObject(bindings, `${stored[1]}OutputReference`, warnings, where));
    if (stored[2] === 'OutputReference') return element;
    if (stored[2] === 'Map') return ['map', element];
    return [stored[3] === 'true' ? 'set' : 'list', element];
  }
  const known = GETTERS.find(([pattern]) => pattern.test(comment.code));
  if (known === undefined) warnings.push(`${where}: cannot type the getter \`${comment.code}\``);
  return known?.[1] ?? 'dynamic';
}

/** A computed object's attributes (all computed), from its OutputReference class. */
function computedObject(bindings: Bindings, className: string, warnings: string[], where: string): BlockSchema {
  const comments = attributeComments(classCode(bindings.js, className));
  if (comments.size === 0) warnings.push(`${where}: no attributes found in ${className}`);
  return {
    attributes: [...comments.values()].map((c) => ({
      name: c.name,
      type: computedType(bindings, c, warnings, `${where}.${c.name}`),
      required: false,
      optional: false,
      computed: true,
    })),
    blockTypes: [],
  };
}
