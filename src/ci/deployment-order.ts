/**
 * Bitbucket's rules for the deployment steps of a pipeline, and the order that follows them.
 *
 * Bitbucket refuses a pipeline whose deployment steps are out of the order of their environments'
 * types (Test, then Staging, then Production), whose parallel group mixes types, or that holds more
 * than 100 steps. The types and ranks come from the lock file (`npm run resolve`): an account whose
 * deployment environment the lock does not describe (given by UUID without a lock) has no known type.
 */
import { ENVIRONMENT_TYPE_NAMES, EnvironmentTypeName } from '../bitbucket/api';
import { ResolvedAccount } from '../config/types';

/** Bitbucket's limit of steps in one pipeline (each step of a parallel group counts). */
export const PIPELINE_MAX_STEPS = 100;

/** What Bitbucket's ordering rule needs of a deployment: its type, and its rank within the type. */
export interface DeploymentKind {
  readonly type?: EnvironmentTypeName;
  readonly rank?: number;
}

/** The kind of an account's deployment environment, as the lock describes it. */
export function deploymentKind(account: ResolvedAccount): DeploymentKind {
  const environment = account.deploymentEnvironment;
  return {
    ...(environment?.type === undefined ? {} : { type: environment.type }),
    ...(environment?.rank === undefined ? {} : { rank: environment.rank }),
  };
}

/** Test 0, Staging 1, Production 2: the order Bitbucket requires. */
export function typeOrder(type: EnvironmentTypeName): number {
  return ENVIRONMENT_TYPE_NAMES.indexOf(type);
}

/** Whether a deployment of kind `later` may come after one of kind `earlier` (types only: ranks are Bitbucket's display order). */
export function mayFollow(earlier: DeploymentKind, later: DeploymentKind): boolean {
  if (earlier.type === undefined || later.type === undefined) return true;
  return typeOrder(later.type) >= typeOrder(earlier.type);
}

/**
 * The accounts in the order their deployment steps must run: by type, then by rank, then in the
 * configuration's order. Accounts of no known type keep their places; the others are sorted into the
 * places the others held, so a configuration without a lock keeps its order.
 */
export function deploymentOrder(accounts: readonly ResolvedAccount[]): ResolvedAccount[] {
  const known = accounts
    .map((account, index) => ({ account, index, kind: deploymentKind(account) }))
    .filter((entry) => entry.kind.type !== undefined);
  const sorted = [...known].sort(
    (a, b) =>
      typeOrder(a.kind.type!) - typeOrder(b.kind.type!) ||
      (a.kind.rank ?? Number.MAX_SAFE_INTEGER) - (b.kind.rank ?? Number.MAX_SAFE_INTEGER) ||
      a.index - b.index,
  );
  const ordered = [...accounts];
  known.forEach((slot, i) => (ordered[slot.index] = sorted[i].account));
  return ordered;
}
