/**
 * Test support: synthesize a configuration in memory and read back what Terraform would get, so tests
 * assert on the synthesized JSON (the real product), not on the objects that built it.
 */
import { unescapeTemplate } from '../../src/constructs/template-literal';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { StackKind } from '../../src/config/types';
import { evaluateTrustPolicy } from '../../src/iam/evaluate';
import { PolicyDocument } from '../../src/iam/policy';
import { BootstrapStack } from '../../src/stacks/bootstrap-stack';
import { WorkloadStack } from '../../src/stacks/workload-stack';
import { assumeRoleRequest, BitbucketTokenClaims } from '../../src/bitbucket/token';
import { validateConfig } from '../../src/config/validate';
import { exampleLock, withLockedUuids } from './example-world';

/** The project root. */
export const ROOT = path.resolve(__dirname, '..', '..');

/**
 * The bundled example configuration, parsed, with the UUIDs of its committed lock file written in
 * beside its names, so that it validates in memory without the lock (a fresh copy each call, safe to
 * modify). The synth of `config/example.json` itself reads the same UUIDs from the lock.
 */
export function exampleConfig(): any {
  return withLockedUuids(JSON.parse(readFileSync(path.join(ROOT, 'config', 'example.json'), 'utf8')), exampleLock(ROOT));
}

/** A synthesized stack: the parsed `cdk.tf.json`. */
export type StackJson = {
  resource: Record<string, Record<string, any>>;
  output: Record<string, { value: unknown }>;
  provider: Record<string, any[]>;
  terraform: any;
};

/**
 * Validates a configuration and synthesizes every account's two stacks; by account name, the JSON
 * text of the account as a whole: the resources and outputs of its bootstrap and workload stacks
 * together (the provider and backend blocks are the workload stack's).
 */
export function synthesizeStacks(input: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(synthesizeAccountStacks(input)).map(([name, stacks]) => {
      const [bootstrap, workload] = [JSON.parse(stacks.bootstrap), JSON.parse(stacks.workload)];
      const resource: Record<string, Record<string, unknown>> = {};
      for (const stack of [bootstrap, workload]) {
        for (const [type, blocks] of Object.entries<Record<string, unknown>>(stack.resource ?? {}))
          resource[type] = { ...resource[type], ...blocks };
      }
      return [name, JSON.stringify({ ...workload, resource, output: { ...bootstrap.output, ...workload.output } }, null, 2)];
    }),
  );
}

/**
 * Validates a configuration and synthesizes every account's bootstrap and workload stacks: JSON text
 * by account and kind. `Testing.synth` writes nothing, but the app creates its output folder
 * (`Testing.app()` a fresh `cdktf.outdir.*` in the temp folder), which is removed again here.
 */
export function synthesizeAccountStacks(input: unknown): Record<string, Record<StackKind, string>> {
  const { config } = validateConfig(input, 'test config');
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdktf.outdir.'));
  try {
    const app = Testing.app({ outdir });
    return Object.fromEntries(
      config.accounts.map((account) => [
        account.name,
        {
          bootstrap: Testing.synth(new BootstrapStack(app, { config, account })),
          workload: Testing.synth(new WorkloadStack(app, { config, account })),
        },
      ]),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Validates a configuration and synthesizes every account's stack, parsed, by account name. */
export function synthConfig(input: unknown): Record<string, StackJson> {
  return Object.fromEntries(Object.entries(synthesizeStacks(input)).map(([name, json]) => [name, JSON.parse(json)]));
}

/** Every `aws_iam_role` of a stack: role name -> its `assume_role_policy` as AWS receives it (Terraform unescapes `$${`). */
export function trustPolicies(stack: StackJson): Record<string, PolicyDocument> {
  const roles = stack.resource.aws_iam_role ?? {};
  return Object.fromEntries(Object.values(roles).map((role: any) => [role.name, JSON.parse(unescapeTemplate(role.assume_role_policy))]));
}

/** The decision AWS would make for a token against a synthesized trust policy. */
export function decide(policy: PolicyDocument, claims: BitbucketTokenClaims, accountId: string, sourceIp?: string): 'ALLOW' | 'DENY' {
  return evaluateTrustPolicy(
    policy,
    assumeRoleRequest(claims, { partition: 'aws', accountId, ...(sourceIp === undefined ? {} : { sourceIp }) }),
  ).decision;
}
