/**
 * BBOIDC-TRUST2: one deployment environment is trusted by roles of two accounts.
 */
import { environmentLabel, repositoryLabel, roleLabel } from '../labels';
import { FindingEnvironment, FindingRepository, FindingRole, FindingRule, RuleHit } from '../finding';

export const EnvironmentInTwoAccounts: FindingRule = {
  id: 'BBOIDC-TRUST2',
  level: 'error',
  summary: 'One deployment environment is trusted by roles of two different accounts.',
  why:
    'A deployment environment stands for one target; its branch and admin restrictions are chosen for it. When ' +
    "its UUID is also in another account's role (a staging environment pasted into the production role), every " +
    "deployment to it, under its looser restrictions, can assume the other account's role.",
  fix:
    'Keep each environment in the roles of its own account only: compare the UUID with Repository settings > ' +
    'Deployments and remove it from the role of the wrong account.',
  check(role: FindingRole, all: readonly FindingRole[]): RuleHit[] {
    const trusting = environmentIndex(all);
    const hits: RuleHit[] = [];
    for (const { repository, environment } of environmentsOf(role)) {
      const entries = (trusting.get(normalUuid(environment.uuid)) ?? []).filter((e) => e.role.account.accountId !== role.account.accountId);
      if (entries.length === 0) continue;
      // Prefer a name the other role gives when this one gives none.
      const named =
        environment.name === undefined ? (entries.find((e) => e.environment.name !== undefined)?.environment ?? environment) : environment;
      const others = [...new Set(entries.map((e) => e.role))];
      const otherRoles = others.map((other) => `${roleLabel(other)} (account ${other.account.accountId})`).join(', ');
      hits.push({
        message:
          `${environmentLabel(named)} of ${repositoryLabel(repository)} is trusted by ${roleLabel(role)} ` +
          `(account ${role.account.accountId}) and by ${otherRoles}`,
      });
    }
    return hits;
  },
};

interface TrustedEnvironment {
  readonly role: FindingRole;
  readonly repository: FindingRepository;
  readonly environment: FindingEnvironment;
}

function environmentsOf(role: FindingRole): TrustedEnvironment[] {
  return role.repositories.flatMap((repository) => repository.environments.map((environment) => ({ role, repository, environment })));
}

/**
 * Every environment of the configuration's roles, by UUID, in the roles' order: built once per list
 * of roles (the rule is asked about each role of the same list), so the rule takes time linear in
 * the configuration instead of comparing every role with every other.
 */
const indexes = new WeakMap<readonly FindingRole[], Map<string, TrustedEnvironment[]>>();

function environmentIndex(all: readonly FindingRole[]): Map<string, TrustedEnvironment[]> {
  let index = indexes.get(all);
  if (index === undefined) {
    index = new Map();
    for (const entry of all.flatMap(environmentsOf)) {
      const uuid = normalUuid(entry.environment.uuid);
      const list = index.get(uuid);
      if (list === undefined) index.set(uuid, [entry]);
      else list.push(entry);
    }
    indexes.set(all, index);
  }
  return index;
}

/** UUIDs are compared as Bitbucket does: lower case, braces aside (the loader normalises; this is a guard). */
function normalUuid(uuid: string): string {
  return uuid.replace(/^\{|\}$/g, '').toLowerCase();
}
