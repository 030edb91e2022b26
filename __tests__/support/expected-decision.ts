/**
 * The expected decision for a token presented to a role, computed from the configuration's meaning
 * alone: the exact issuer and account, an audience among the role's, a `sub` that starts with one of
 * the admitted prefixes (`{REPO}:` or `{REPO}:{ENV}:`), a source address inside one of the CIDRs.
 *
 * It deliberately shares nothing with the code under test or with the IAM engine: no IAM wildcard
 * matching (prefixes are compared with `startsWith`), no `src/` import, CIDRs compared as bit strings.
 * It reads the configuration as the user wrote it (braced or upper-case UUIDs included).
 */

type Json = Record<string, any>;

/** A UUID as the claims carry it: lower case, in braces (config values may have either form). */
export function claimUuid(configValue: string): string {
  return `{${configValue.replace(/[{}]/g, '').toLowerCase()}}`;
}

/** The partition of a region, for the provider ARN (only the partitions the tests use). */
export function partitionOf(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/** An IPv4 or IPv6 address as a string of 32 or 128 bits, or undefined when malformed. */
export function ipBits(ip: string): string | undefined {
  if (ip.includes('.')) {
    const parts = ip.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    return parts.map((p) => Number(p).toString(2).padStart(8, '0')).join('');
  }
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16).toString(2).padStart(16, '0')).join('');
}

/** The address a string of 32 or 128 bits spells (IPv6 uncompressed). */
export function bitsToIp(bits: string): string {
  if (bits.length === 32) return [0, 8, 16, 24].map((i) => parseInt(bits.slice(i, i + 8), 2)).join('.');
  return Array.from({ length: 8 }, (_, i) => parseInt(bits.slice(i * 16, i * 16 + 16), 2).toString(16)).join(':');
}

/** Whether an address lies in a CIDR block: its first `prefix` bits are the network's. */
export function inCidr(ip: string, cidr: string): boolean {
  const [network, prefixText] = cidr.split('/');
  const [a, n] = [ipBits(ip), ipBits(network)];
  const prefix = Number(prefixText);
  return a !== undefined && n !== undefined && a.length === n.length && a.slice(0, prefix) === n.slice(0, prefix);
}

/** The bits of a block's first address. */
export function networkBits(cidr: string): string {
  const [network, prefix] = cidr.split('/');
  const bits = ipBits(network)!;
  return bits.slice(0, Number(prefix)).padEnd(bits.length, '0');
}

/** The bits of a block's last address. */
export function lastAddressBits(cidr: string): string {
  const prefix = Number(cidr.split('/')[1]);
  return networkBits(cidr).slice(0, prefix).padEnd(networkBits(cidr).length, '1');
}

/** The first address with its last prefix bit flipped: outside the block by construction. */
export function outsideAddressBits(cidr: string): string {
  const prefix = Number(cidr.split('/')[1]);
  const bits = networkBits(cidr);
  return `${bits.slice(0, prefix - 1)}${bits[prefix - 1] === '0' ? '1' : '0'}${bits.slice(prefix)}`;
}

/** What a role of the configuration admits, read from the configuration file itself. */
export interface RoleMeaning {
  readonly issuerUrl: string;
  readonly partition: string;
  readonly accountId: string;
  readonly audiences: string[];
  /** undefined when every repository is admitted (allowAllRepositories). */
  readonly subPrefixes: string[] | undefined;
  readonly cidrs: string[];
}

/** An environment of the raw configuration: a UUID, or `{ "uuid": ..., "name": ... }`. */
export function environmentUuid(environment: string | { uuid: string }): string {
  return typeof environment === 'string' ? environment : environment.uuid;
}

/** Reads what `role` of `account` admits from the raw configuration. */
export function roleMeaning(config: Json, account: Json, role: Json): RoleMeaning {
  const workspaceAudience = `ari:cloud:bitbucket::workspace/${config.workspaceUuid.replace(/[{}]/g, '').toLowerCase()}`;
  return {
    issuerUrl: `https://api.bitbucket.org/2.0/workspaces/${config.workspace}/pipelines-config/identity/oidc`,
    partition: partitionOf(account.region),
    accountId: account.accountId,
    audiences: role.audiences ?? [workspaceAudience, ...(config.audiences ?? [])],
    // A normal step's sub is {REPO}:{STEP}, a deployment step's {REPO}:{ENV}:{STEP}.
    subPrefixes:
      role.allowAllRepositories === true
        ? undefined
        : role.repositories.flatMap((repo: Json) =>
            repo.environments === undefined
              ? [`${claimUuid(repo.uuid)}:`]
              : repo.environments.map((env: string | { uuid: string }) => `${claimUuid(repo.uuid)}:${claimUuid(environmentUuid(env))}:`),
          ),
    cidrs: role.sourceIpCidrs ?? [],
  };
}

/** A token presented to a role: its claims, the account it is presented in, the caller's address. */
export interface TokenCase {
  readonly label: string;
  readonly iss: string;
  /** undefined: the claim is absent. */
  readonly aud: string | undefined;
  /** undefined: the claim is absent. */
  readonly sub: string | undefined;
  readonly accountId: string;
  /** undefined: no `aws:SourceIp` in the request. */
  readonly sourceIp: string | undefined;
}

/** ALLOW exactly when every part of the role's meaning holds for the token. */
export function expectedDecision(meaning: RoleMeaning, token: TokenCase): 'ALLOW' | 'DENY' {
  const admitted =
    token.iss === meaning.issuerUrl &&
    token.accountId === meaning.accountId &&
    token.aud !== undefined &&
    meaning.audiences.includes(token.aud) &&
    (meaning.subPrefixes === undefined ||
      (token.sub !== undefined && meaning.subPrefixes.some((prefix) => token.sub!.startsWith(prefix)))) &&
    (meaning.cidrs.length === 0 || (token.sourceIp !== undefined && meaning.cidrs.some((cidr) => inCidr(token.sourceIp!, cidr))));
  return admitted ? 'ALLOW' : 'DENY';
}
