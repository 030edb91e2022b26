/**
 * BBOIDC-TRUST1: the role trusts every repository of the workspace.
 */
import { FindingRole, FindingRule, RuleHit } from '../finding';

export const AllRepositories: FindingRule = {
  id: 'BBOIDC-TRUST1',
  level: 'warning',
  summary: 'The role trusts every repository of the workspace (allowAllRepositories).',
  why:
    'The trust policy then checks only the audience: every step of every repository, present and future, may ' +
    'assume the role, so anyone who can create a repository or push a branch in the workspace holds its permissions.',
  fix:
    'List the repositories instead ("repositories": [{ "uuid": "{REPOSITORY_UUID}", "name": "acme/infra" }]), and ' +
    'their deployment environments for a role that writes.',
  check(role: FindingRole): RuleHit[] {
    if (!role.allowAllRepositories) return [];
    return [
      {
        message:
          'allowAllRepositories is true: every step of every repository of the workspace may assume the role, pull requests included',
      },
    ];
  },
};
