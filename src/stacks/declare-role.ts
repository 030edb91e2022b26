/** A resolved role of the configuration as a `BitbucketPipelinesRole`. */
import { Construct } from 'constructs';
import { ResolvedConfig, ResolvedRole } from '../config/types';
import { IBitbucketOidcProvider } from '../constructs/provider';
import { BitbucketPipelinesRole } from '../constructs/role';

/** Declares `role` in `scope`, trusting `provider`. */
export function declareRole(
  scope: Construct,
  config: ResolvedConfig,
  provider: IBitbucketOidcProvider,
  role: ResolvedRole,
): BitbucketPipelinesRole {
  return new BitbucketPipelinesRole(scope, `role-${role.name}`, {
    provider,
    trust: {
      repositories: role.repositories,
      allowAllRepositories: role.allowAllRepositories,
      audiences: role.audiences,
      sourceIpCidrs: role.sourceIpCidrs,
    },
    role: {
      name: role.name,
      path: role.path,
      maxSessionDurationSeconds: role.maxSessionDurationSeconds,
      managedPolicyArns: role.managedPolicyArns,
      inlinePolicies: role.inlinePolicies,
      ...(Object.keys(role.tags).length === 0 ? {} : { tags: role.tags }),
      trustPolicyMaxSize: config.trustPolicyMaxSize,
      ...(role.description === undefined ? {} : { description: role.description }),
      ...(role.permissionsBoundaryArn === undefined ? {} : { permissionsBoundaryArn: role.permissionsBoundaryArn }),
    },
  });
}
