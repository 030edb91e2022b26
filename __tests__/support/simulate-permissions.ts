/**
 * Test-only bridge to `@cloud-copilot/iam-simulate` (an independent IAM engine, AGPL: never import it
 * from `src/`) for identity-based requests: a principal's identity policies, evaluated together with
 * its permissions boundary, decide one request (action, resource, context keys).
 *
 * The engine drops context keys an action does not document (it reports them in
 * `ignoredContextKeys`). The world passes `iam:PermissionsBoundary` with every request on a role
 * that has a boundary, whatever the action, exactly as AWS knows it; for actions that do not carry
 * the key AWS leaves it out, and so does the engine. Any OTHER ignored key means the test built a
 * request AWS would not, so the bridge throws instead of deciding without it.
 */
import { runSimulation, type RequestAnalysis, type Simulation } from '@cloud-copilot/iam-simulate';
import { PolicyDocument } from '../../src/iam/policy';

/** Who makes the request. */
export interface SimulatedPrincipal {
  /** A role session ARN, e.g. `arn:aws:sts::123456789012:assumed-role/deploy/step`. */
  readonly arn: string;
  readonly accountId: string;
  readonly identityPolicies: readonly PolicyDocument[];
  /** @default - no permissions boundary */
  readonly boundary?: PolicyDocument;
}

/** One API request. */
export interface PermissionRequest {
  readonly action: string;
  readonly resource: string;
  /** Owner of the resource (S3 ARNs carry no account). */
  readonly resourceAccount: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * The resource's own policy, when AWS always consults one: a KMS key policy must allow the account
   * (or the principal) before any identity policy counts.
   * @default - none
   */
  readonly resourcePolicy?: PolicyDocument;
  /** What the case shows, for failure messages. */
  readonly label?: string;
}

export type Decision = 'ALLOW' | 'DENY';

/** The engine's answer. */
export interface Verdict {
  readonly decision: Decision;
  /** `Allowed`, `ExplicitlyDenied` or `ImplicitlyDenied`. */
  readonly result: string;
  /** The engine's analysis (which policy type allowed or denied), for a request on one resource. */
  readonly analysis?: RequestAnalysis;
}

/** Context keys the world passes whether or not the action documents them (see the file comment). */
const KEYS_ABSENT_FOR_SOME_ACTIONS = new Set(['iam:permissionsboundary']);

/** Decides one request; throws if the engine rejects the input or ignored a key it should not have. */
export async function decide(principal: SimulatedPrincipal, request: PermissionRequest): Promise<Verdict> {
  const simulation: Simulation = {
    request: {
      principal: principal.arn,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: Object.fromEntries(
        Object.entries(request.context ?? {}).map(([key, value]) => [key, typeof value === 'string' ? value : [...value]]),
      ),
    },
    identityPolicies: principal.identityPolicies.map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(principal.boundary === undefined ? {} : { permissionBoundaryPolicies: [{ name: 'boundary', policy: principal.boundary }] }),
    ...(request.resourcePolicy === undefined ? {} : { resourcePolicy: request.resourcePolicy }),
  };
  const result = await runSimulation(simulation, {});
  const what = `${request.action} on ${request.resource}`;
  if (result.resultType === 'error') throw new Error(`engine rejected ${what}: ${JSON.stringify(result.errors)}`);
  const ignored =
    result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  const unexpected = ignored.filter((key) => !KEYS_ABSENT_FOR_SOME_ACTIONS.has(key.toLowerCase()));
  if (unexpected.length > 0) throw new Error(`engine ignored ${unexpected.join(', ')} for ${what}: the request is malformed`);
  return {
    decision: result.overallResult === 'Allowed' ? 'ALLOW' : 'DENY',
    result: result.overallResult,
    ...(result.resultType === 'single' ? { analysis: result.result.analysis } : {}),
  };
}

/** Running totals, for the one-line summary a suite prints. */
export class DecisionTally {
  allowed = 0;
  denied = 0;

  record(verdict: Verdict): Verdict {
    if (verdict.decision === 'ALLOW') this.allowed += 1;
    else this.denied += 1;
    return verdict;
  }
}
