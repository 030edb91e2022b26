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
    const hits: RuleHit[] = [];
    for (const { repository, environment } of environmentsOf(role)) {
      const others = all.filter(
        (other) =>
          other.account.accountId !== role.account.accountId &&
          environmentsOf(other).some((e) => sameUuid(e.environment.uuid, environment.uuid)),
      );
      if (others.length === 0) continue;
      // Prefer a name the other role gives when this one gives none.
      const named =
        environment.name === undefined
          ? (others.flatMap(environmentsOf).find((e) => sameUuid(e.environment.uuid, environment.uuid) && e.environment.name !== undefined)
              ?.environment ?? environment)
          : environment;
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

function environmentsOf(role: FindingRole): { repository: FindingRepository; environment: FindingEnvironment }[] {
  return role.repositories.flatMap((repository) => repository.environments.map((environment) => ({ repository, environment })));
}

/** UUIDs are compared as Bitbucket does: lower case, braces aside (the loader normalises; this is a guard). */
function sameUuid(a: string, b: string): boolean {
  const normal = (uuid: string) => uuid.replace(/^\{|\}$/g, '').toLowerCase();
  return normal(a) === normal(b);
}
