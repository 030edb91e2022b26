/**
 * Repairs for two defects of cdktf 0.21's HCL renderer (`cdktf synth --hcl`, the exit ramp to plain
 * Terraform), applied to a stack's rendered HCL:
 * - plain attributes of the `terraform` block are written by list index (`0 = "required_version"`),
 *   which is invalid HCL: they are written back as `required_version = ">= 1.10"`;
 * - `depends_on` entries are quoted (`"aws_iam_openid_connect_provider.x"`), which Terraform
 *   deprecates: they are written as bare references.
 * Once the renderer is fixed (e.g. in CDK Terrain), neither pattern occurs and this is a no-op.
 */

/** Rewrites cdktf's rendered HCL; `terraformBlock` is the stack's resolved JSON `terraform` block. */
export function repairHcl(hcl: string, terraformBlock: Record<string, unknown>): string {
  const indexedAttribute = /^(\s*)\d+ = "([A-Za-z_][A-Za-z0-9_]*)"$/gm;
  const fixedAttributes = hcl.replace(indexedAttribute, (line, indent: string, name: string) => {
    const value = terraformBlock[name];
    return typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number'
      ? `${indent}${name} = ${JSON.stringify(value)}`
      : line;
  });
  return fixedAttributes.replace(/depends_on = \[([^\]]*)\]/g, (_block, body: string) =>
    `depends_on = [${body.replace(/"([A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*)"/g, '$1')}]`,
  );
}
