/**
 * Test support: synthesize a configuration in memory and read back what Terraform would get, so tests
 * assert on the synthesized JSON (the real product), not on the objects that built it.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { stackName } from '../../src/config/types';
import { evaluateTrustPolicy } from '../../src/iam/evaluate';
import { PolicyDocument } from '../../src/iam/policy';
import { AccountStack } from '../../src/stacks/account-stack';
import { assumeRoleRequest, BitbucketTokenClaims } from '../../src/bitbucket/token';
import { validateConfig } from '../../src/config/validate';

/** The project root. */
export const ROOT = path.resolve(__dirname, '..', '..');

/** The bundled example configuration, parsed (a fresh copy each call, safe to modify). */
export function exampleConfig(): any {
  return JSON.parse(readFileSync(path.join(ROOT, 'config', 'example.json'), 'utf8'));
}

/** A synthesized stack: the parsed `cdk.tf.json`. */
export type StackJson = {
  resource: Record<string, Record<string, any>>;
  output: Record<string, { value: unknown }>;
  provider: Record<string, any[]>;
  terraform: any;
};

/** Validates a configuration and synthesizes every account's stack: the exact JSON text, by account name. */
export function synthesizeStacks(input: unknown): Record<string, string> {
  const { config } = validateConfig(input, 'test config');
  const app = Testing.app();
  return Object.fromEntries(
    config.accounts.map((account) => [account.name, Testing.synth(new AccountStack(app, stackName(account), { config, account }))]),
  );
}

/** Validates a configuration and synthesizes every account's stack, parsed, by account name. */
export function synthConfig(input: unknown): Record<string, StackJson> {
  return Object.fromEntries(Object.entries(synthesizeStacks(input)).map(([name, json]) => [name, JSON.parse(json)]));
}

/** Every `aws_iam_role` of a stack: role name -> parsed `assume_role_policy`. */
export function trustPolicies(stack: StackJson): Record<string, PolicyDocument> {
  const roles = stack.resource.aws_iam_role ?? {};
  return Object.fromEntries(Object.values(roles).map((role: any) => [role.name, JSON.parse(role.assume_role_policy)]));
}

/** The decision AWS would make for a token against a synthesized trust policy. */
export function decide(policy: PolicyDocument, claims: BitbucketTokenClaims, accountId: string, sourceIp?: string): 'ALLOW' | 'DENY' {
  return evaluateTrustPolicy(policy, assumeRoleRequest(claims, { partition: 'aws', accountId, ...(sourceIp === undefined ? {} : { sourceIp }) })).decision;
}
