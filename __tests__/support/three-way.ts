/**
 * Decides one token against one synthesized role three ways: the project's evaluator, the
 * independent engine (through the adapter) and the expectation from the configuration's meaning.
 */
import { evaluateTrustPolicy } from '../../src/iam/evaluate';
import { assumeRoleRequest, BitbucketTokenClaims } from '../../src/bitbucket/token';
import { expectedDecision, RoleMeaning, TokenCase } from './expected-decision';
import { simulateAssumeRole } from './iam-simulate-adapter';
import { SynthesizedRole } from './synthesized-roles';

/** The three decisions for a token. */
export interface ThreeWay {
  readonly evaluator: 'ALLOW' | 'DENY';
  readonly engine: 'ALLOW' | 'DENY';
  readonly expected: 'ALLOW' | 'DENY';
}

export async function decideThreeWays(role: SynthesizedRole, meaning: RoleMeaning, token: TokenCase): Promise<ThreeWay> {
  // Absent claims stay absent: the request then has no value for their condition keys.
  const claims = { iss: token.iss, aud: token.aud, sub: token.sub } as BitbucketTokenClaims;
  const request = assumeRoleRequest(claims, {
    partition: meaning.partition,
    accountId: token.accountId,
    ...(token.sourceIp === undefined ? {} : { sourceIp: token.sourceIp }),
  });
  return {
    evaluator: evaluateTrustPolicy(role.trustPolicy, request).decision,
    engine: (
      await simulateAssumeRole(role.trustPolicy, request, {
        accountId: role.accountId,
        name: role.name,
        path: role.path,
        partition: meaning.partition,
      })
    ).decision,
    expected: expectedDecision(meaning, token),
  };
}
