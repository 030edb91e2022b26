/**
 * The fast check of a Terraform JSON stack, without Terraform: in Terraform's JSON syntax every
 * string is a template, so each is parsed with HashiCorp's HCL parser (`@cdktf/hcl2json`, Go compiled
 * to WebAssembly) and each reference it makes must name a block the stack declares.
 *
 * Where strings are templates: the arguments of resources, data sources, providers, modules, locals
 * and outputs (object keys included: in an expression, a JSON object's keys are templates too) and the
 * backend's arguments. Not templates: `//` comments (cdktf's metadata), the `terraform` block's
 * settings, variables' declarations; `depends_on` holds bare references, checked as such.
 *
 * Only `${` and `%{` open anything but literal text in a template (escapes `$${` and `%%{` included),
 * so a string without either is a literal the parser always accepts; the parser (about 10 ms per kB
 * through WebAssembly) gets only the strings with one.
 */
import { getExpressionAst } from '@cdktf/hcl2json';
import { findAllReferencesInAst } from '@cdktf/hcl2json/lib/references';

/** A string Terraform would reject, or a reference to nothing. */
export interface TemplateProblem {
  /** Where, e.g. `resource.aws_iam_role.x.description`. */
  readonly path: string;
  readonly text: string;
  /** HCL's message, or `reference to undeclared X`. */
  readonly problem: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Blocks whose arguments are expressions, by top-level key, and how deep their bodies start. */
const EXPRESSION_BLOCKS: Record<string, number> = { resource: 2, data: 2, module: 1, output: 1, provider: 1, locals: 0 };

/** Names that are always in scope. */
const BUILT_IN_ROOTS = new Set(['path', 'terraform']);

/** Checks every template string of a stack; returns the problems (none when Terraform would accept all). */
export async function templateProblems(stack: Record<string, Json>, file = 'cdk.tf.json'): Promise<TemplateProblem[]> {
  const declared = declaredBlocks(stack);
  const strings: { path: string; text: string; bare: boolean }[] = [];
  for (const [key, depth] of Object.entries(EXPRESSION_BLOCKS)) {
    for (const [bodyPath, body] of bodies(stack[key], [key], depth)) collectStrings(body, bodyPath, strings);
  }
  const backends = ((stack.terraform as Record<string, Json> | undefined)?.backend ?? {}) as Record<string, Json>;
  for (const [type, body] of Object.entries(backends)) collectStrings(body, ['terraform', 'backend', type], strings);

  const templates = strings.filter(({ text, bare }) => bare || /[$%]\{/.test(text));
  const sources = [...new Set(templates.map(({ text, bare }) => (bare ? text : hclQuoted(text))))];
  const parsed = await parseAll(file, sources);
  const problems: TemplateProblem[] = [];
  for (const { path, text, bare } of templates) {
    const result = parsed.get(bare ? text : hclQuoted(text))!;
    if ('error' in result) {
      problems.push({ path, text, problem: result.error });
      continue;
    }
    for (const reference of result.references) {
      if (!resolves(reference, declared)) problems.push({ path, text, problem: `reference to undeclared ${reference}` });
    }
  }
  return problems;
}

type Parsed = { references: string[] } | { error: string };

/**
 * Parses expressions as one tuple (a call into the parser costs ~3 ms, an element ~0.3 ms); when the
 * tuple does not parse, each expression alone, to tell which one fails and why.
 */
async function parseAll(file: string, sources: string[]): Promise<Map<string, Parsed>> {
  if (sources.length === 0) return new Map();
  const tuple = `[\n${sources.join(',\n')}\n]`;
  try {
    const ast = await getExpressionAst(file, tuple);
    if (ast?.type === 'tuple' && ast.children.length === sources.length) {
      return new Map(sources.map((source, i) => [source, { references: findAllReferencesInAst(tuple, ast.children[i]).map((r) => r.value) }]));
    }
  } catch {
    // one of them does not parse: find which below
  }
  const results = new Map<string, Parsed>();
  for (const source of sources) results.set(source, await parseOne(file, source));
  return results;
}

async function parseOne(file: string, source: string): Promise<Parsed> {
  try {
    const ast = await getExpressionAst(file, source);
    return { references: findAllReferencesInAst(source, ast).map((r) => r.value) };
  } catch (error) {
    return { error: (error as Error).message.replace(/^getExpressionAst errors on input string '[\s\S]*': /, '') };
  }
}

/** A JSON-syntax template (the string's value) as an HCL quoted template with the same meaning. */
export function hclQuoted(text: string): string {
  const escaped = text.replace(/[\\"\u0000-\u001f]/g, (c) => {
    const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `"${escaped}"`;
}

/** `resource.aws_iam_role.x`, `data.aws_caller_identity.current`, `var.x`, `local.x`, `module.x`. */
function declaredBlocks(stack: Record<string, Json>): Set<string> {
  const declared = new Set<string>();
  const names = (value: Json | undefined) => (value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : []);
  for (const type of names(stack.resource)) for (const name of names((stack.resource as any)[type])) declared.add(`${type}.${name}`);
  for (const type of names(stack.data)) for (const name of names((stack.data as any)[type])) declared.add(`data.${type}.${name}`);
  for (const name of names(stack.variable)) declared.add(`var.${name}`);
  for (const name of names(stack.locals)) declared.add(`local.${name}`);
  for (const name of names(stack.module)) declared.add(`module.${name}`);
  return declared;
}

/** Whether a reference (`aws_iam_role.x.arn`, `var.x`, ...) names a declared block. */
function resolves(reference: string, declared: Set<string>): boolean {
  const parts = reference.split('.');
  if (BUILT_IN_ROOTS.has(parts[0])) return true;
  const length = parts[0] === 'data' ? 3 : 2;
  return parts.length >= length && declared.has(parts.slice(0, length).join('.'));
}

/** The bodies `depth` levels below `value` (a provider's value is a list of bodies). */
function bodies(value: Json | undefined, path: string[], depth: number): [string[], Json][] {
  if (value === undefined || value === null) return [];
  if (depth === 0) return Array.isArray(value) ? value.map((v, i) => [[...path, String(i)], v]) : [[path, value]];
  if (typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, v]) => bodies(v, [...path, key], depth - 1));
}

function collectStrings(value: Json, path: string[], into: { path: string; text: string; bare: boolean }[]): void {
  if (typeof value === 'string') {
    into.push({ path: path.join('.'), text: value, bare: false });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => collectStrings(item, [...path, String(i)], into));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '//') continue;
      if (key === 'depends_on' && Array.isArray(item)) {
        item.forEach((ref, i) => typeof ref === 'string' && into.push({ path: [...path, key, String(i)].join('.'), text: ref, bare: true }));
        continue;
      }
      into.push({ path: [...path, key].join('.'), text: key, bare: false });
      collectStrings(item, [...path, key], into);
    }
  }
}
