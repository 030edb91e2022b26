/**
 * Repairs for two defects of cdktf 0.21's HCL renderer (`cdktf synth --hcl`, the exit ramp to plain
 * Terraform), applied to a stack's rendered HCL:
 * - plain attributes of the `terraform` block are written by list index (`0 = "required_version"`),
 *   which is invalid HCL: they are written back as `required_version = ">= 1.10"`;
 * - `depends_on` entries are quoted (`"aws_iam_openid_connect_provider.x"`), which Terraform
 *   deprecates: they are written as bare references;
 * - a string holding `${` (an escaped `$${aws:username}` in a policy, say) is written without escaping
 *   its quotes, and no string has its backslashes escaped, which garbles a policy into invalid HCL;
 *   a string with a line break becomes a heredoc, which adds a final line break. Such literal
 *   strings are written again as properly escaped HCL strings.
 * Once the renderer is fixed (e.g. in CDK Terrain), none of these patterns occurs and this is a no-op.
 */

/** A string in Terraform's template syntax that has a live `${...}` or `%{...}` (not an escaped one). */
function hasLiveTemplate(text: string): boolean {
  // Read as Terraform does, left to right: `$${` and `%%{` are escapes, `${` and `%{` are live.
  return [...text.matchAll(/\$\$\{|\$\{|%%\{|%\{/g)].some((match) => match[0].length === 2);
}

/** How cdktf 0.21 renders a string attribute (`renderString` in cdktf/lib/hcl/render.js). */
function cdktfRendering(text: string): string {
  const lines = text.split(/\r\n|[\n\r]/);
  if (lines.length > 1) return `<<EOF\n${lines.join('\n')}\nEOF`;
  return `"${text.includes('${') ? text : text.replace(/(?<!\\)"/g, '\\"')}"`;
}

/** A template string (Terraform JSON syntax) as an HCL quoted string with the same value. */
export function hclString(text: string): string {
  const escaped = text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return `"${escaped}"`;
}

function stringsOf(value: unknown, into: Set<string>): Set<string> {
  if (typeof value === 'string') into.add(value);
  else if (Array.isArray(value)) value.forEach((item) => stringsOf(item, into));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) if (key !== '//') stringsOf(item, into);
  }
  return into;
}

/** Rewrites cdktf's rendered HCL; `stack` is the stack's resolved JSON (`toTerraform()`). */
export function repairHcl(hcl: string, stack: Record<string, unknown>): string {
  const terraformBlock = (stack.terraform ?? {}) as Record<string, unknown>;
  const indexedAttribute = /^(\s*)\d+ = "([A-Za-z_][A-Za-z0-9_]*)"$/gm;
  const fixedAttributes = hcl.replace(indexedAttribute, (line, indent: string, name: string) => {
    const value = terraformBlock[name];
    return typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number'
      ? `${indent}${name} = ${JSON.stringify(value)}`
      : line;
  });
  const fixedReferences = fixedAttributes.replace(
    /depends_on = \[([^\]]*)\]/g,
    (_block, body: string) => `depends_on = [${body.replace(/"([A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*)"/g, '$1')}]`,
  );
  // Longest first, so that no shorter string is replaced inside a longer one's rendering.
  const literals = [...stringsOf(stack, new Set())].filter((text) => !hasLiveTemplate(text)).sort((a, b) => b.length - a.length);
  let repaired = fixedReferences;
  for (const text of literals) {
    const garbled = cdktfRendering(text);
    const fixed = hclString(text);
    if (garbled !== fixed)
      repaired = repaired
        .split(`= ${garbled}`)
        .join(`= ${fixed}`)
        .split(`${garbled},`)
        .join(`${fixed},`)
        .split(`${garbled}\n]`)
        .join(`${fixed}\n]`);
  }
  return repaired;
}
