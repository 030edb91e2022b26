/**
 * BBOIDC-IP1: a source IP range that admits every address.
 */
import { FindingRole, FindingRule, RuleHit } from '../finding';

export const SourceIpMatchesEverything: FindingRule = {
  id: 'BBOIDC-IP1',
  level: 'error',
  summary: 'sourceIpCidrs holds a /0 range, which admits every address.',
  why:
    'A /0 range such as 0.0.0.0/0 or ::/0 matches every address of its family, so the aws:SourceIp condition ' +
    'restricts nothing while the config reads as if the role were limited to known networks.',
  fix:
    'List the ranges the assuming steps call from (Atlassian publishes them for steps with atlassian-ip-ranges: true), ' +
    'or remove sourceIpCidrs.',
  check(role: FindingRole): RuleHit[] {
    return role.sourceIpCidrs
      .filter((cidr) => /\/0*0$/.test(cidr.trim()))
      .map((cidr) => ({ message: `sourceIpCidrs ${JSON.stringify(cidr)} matches every ${cidr.includes(':') ? 'IPv6' : 'IPv4'} address` }));
  },
};
