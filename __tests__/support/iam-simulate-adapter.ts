/**
 * Test-only bridge to `@cloud-copilot/iam-simulate`, an independent IAM policy engine, so the
 * project's own evaluator (`src/iam/evaluate.ts`) can be checked against code that shares none of its
 * assumptions. The engine is AGPL-licensed: it is a devDependency and must only ever be imported from
 * `__tests__/` (a test in `differential.test.ts` enforces this).
 *
 * Why an adapter is needed: the engine only recognises an OIDC provider's condition keys when the
 * provider part has no `/` (it tests it against `/^[0-9a-zA-Z._-]+$/`) and the key is one its IAM data
 * lists for `sts:AssumeRoleWithWebIdentity`. Bitbucket's issuer has a path
 * (`api.bitbucket.org/2.0/workspaces/<slug>/pipelines-config/identity/oidc:sub`), so the engine drops
 * those keys from the request (it reports them in `ignoredContextKeys`) and a trust policy conditioned
 * on them is never satisfied: it denies everything. AWS itself has no such restriction.
 *
 * What it does: it renames the Bitbucket `:aud` and `:sub` condition keys, in the policy AND in the
 * request, onto OIDC providers the engine knows, whose `aud` and `sub` keys are single-valued strings
 * compared by the same operators:
 *
 * - the issuer the policy trusts (the one its Federated principal names) becomes `accounts.google.com`;
 * - any other Bitbucket issuer in the request (a token of another workspace, a misspelt issuer) becomes
 *   `cognito-identity.amazonaws.com`, a different known provider, so those claims stay under keys the
 *   policy does not name, exactly as they do in AWS.
 *
 * Nothing else changes: the Federated principal (the provider ARN, which keeps its path), the action,
 * the operators, the values and every other key (`aws:SourceIp`) pass through untouched. The adapter
 * refuses (throws) anything it cannot map faithfully, and `simulateAssumeRole` fails if the engine
 * ignored any context key, so a silent mapping mistake cannot turn into agreement.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { AssumeRoleRequest } from '../../src/iam/evaluate';
import { PolicyDocument, PolicyStatement } from '../../src/iam/policy';

/** The OIDC provider the policy's own (trusted) Bitbucket issuer is mapped onto. */
export const TRUSTED_ISSUER_ALIAS = 'accounts.google.com';
/** The OIDC provider any other Bitbucket issuer in a request is mapped onto. */
export const OTHER_ISSUER_ALIAS = 'cognito-identity.amazonaws.com';

/**
 * An OIDC condition key whose issuer has a path, as Bitbucket's do: `<issuer host and path>:<claim>`.
 * Any issuer with a `/` is caught (a misspelt one, `http://...`, another workspace's), not only
 * well-formed Bitbucket ones, so no such key can reach the engine unmapped. Global keys
 * (`aws:SourceIp`) have no `/` before their colon and pass through.
 */
const ISSUER_KEY = /^(.*\/.*):([^:/]+)$/;
/** The claims whose keys AWS exposes for a generic OIDC provider, and the adapter maps. */
const MAPPED_CLAIMS = new Set(['aud', 'sub']);

/** The issuer (host and path) a Federated principal `arn:...:oidc-provider/<issuer>` names. */
export function issuerOfProviderArn(providerArn: string): string {
  const match = /^arn:[^:]+:iam::\d{12}:oidc-provider\/(.+)$/.exec(providerArn);
  if (match === null) throw new Error(`adapter: ${providerArn} is not an OIDC provider ARN`);
  return match[1];
}

/** The single Federated principal of a trust policy (the adapter handles exactly that shape). */
export function trustedIssuer(policy: PolicyDocument): string {
  const federated = new Set<string>();
  for (const statement of policy.Statement) {
    const principal = statement.Principal;
    if (principal === undefined || !('Federated' in principal)) throw new Error('adapter: every statement must have a Federated principal');
    for (const arn of typeof principal.Federated === 'string' ? [principal.Federated] : principal.Federated) federated.add(arn);
  }
  if (federated.size !== 1) throw new Error(`adapter: expected one Federated principal, found ${[...federated].join(', ')}`);
  return issuerOfProviderArn([...federated][0]);
}

/** Renames one condition key; `trusted` is the policy's issuer (host and path). */
export function adaptKey(key: string, trusted: string): string {
  const match = ISSUER_KEY.exec(key);
  if (match === null) return key;
  const [, issuer, claim] = match;
  if (!MAPPED_CLAIMS.has(claim)) throw new Error(`adapter: no faithful mapping for the claim key ${key}`);
  return `${issuer === trusted ? TRUSTED_ISSUER_ALIAS : OTHER_ISSUER_ALIAS}:${claim}`;
}

/** The policy with its Bitbucket condition keys renamed (a copy; the input is not modified). */
export function adaptPolicy(policy: PolicyDocument): PolicyDocument {
  const trusted = trustedIssuer(policy);
  const statements = policy.Statement.map((statement): PolicyStatement => {
    if (statement.Condition === undefined) return statement;
    const condition = Object.fromEntries(
      Object.entries(statement.Condition).map(([operator, block]) => [
        operator,
        Object.fromEntries(Object.entries(block ?? {}).map(([key, value]) => [adaptKey(key, trusted), value])),
      ]),
    );
    return { ...statement, Condition: condition };
  });
  return { ...policy, Statement: statements };
}

/** The request's context keys renamed the same way; absent (undefined) keys are left out. */
export function adaptContext(values: AssumeRoleRequest['values'], trusted: string): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const adapted = adaptKey(key, trusted);
    if (adapted in context) throw new Error(`adapter: two request keys map onto ${adapted}`);
    context[adapted] = typeof value === 'string' ? value : [...value];
  }
  return context;
}

/** Where the role lives, for the engine's request. */
export interface SimulatedRole {
  readonly accountId: string;
  readonly name: string;
  /** @default '/' */
  readonly path?: string;
  /** @default 'aws' */
  readonly partition?: string;
}

/** The engine's verdict, with what it ignored (always empty when the adapter did its job). */
export interface EngineVerdict {
  readonly decision: 'ALLOW' | 'DENY';
  readonly overallResult: string;
  readonly ignoredContextKeys: readonly string[];
}

/**
 * Asks the engine whether `request` may assume the role whose trust policy is `policy`. With
 * `adapt: false` the policy and request go in unchanged (to show why the adapter exists).
 * Throws when the engine rejects the input, and, when adapting, when it ignored any context key.
 */
export async function simulateAssumeRole(
  policy: PolicyDocument,
  request: AssumeRoleRequest,
  role: SimulatedRole,
  options: { adapt?: boolean } = {},
): Promise<EngineVerdict> {
  const { adapt = true } = options;
  const trusted = trustedIssuer(policy);
  const resourcePolicy = adapt ? adaptPolicy(policy) : policy;
  const contextVariables = adapt
    ? adaptContext(request.values, trusted)
    : Object.fromEntries(
        Object.entries(request.values)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, typeof v === 'string' ? v : [...(v as string[])]]),
      );
  const simulation: Simulation = {
    request: {
      principal: request.federatedPrincipal,
      action: request.action,
      resource: {
        resource: `arn:${role.partition ?? 'aws'}:iam::${role.accountId}:role${role.path ?? '/'}${role.name}`,
        accountId: role.accountId,
      },
      contextVariables,
    },
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy,
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`engine rejected the simulation: ${JSON.stringify(result.errors)}`);
  const ignoredContextKeys =
    result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  if (adapt && ignoredContextKeys.length > 0) {
    throw new Error(`adapter: the engine ignored context keys ${ignoredContextKeys.join(', ')}; it would have decided without them`);
  }
  return { decision: result.overallResult === 'Allowed' ? 'ALLOW' : 'DENY', overallResult: result.overallResult, ignoredContextKeys };
}
