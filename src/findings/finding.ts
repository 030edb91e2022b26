/**
 * The shapes of the security findings: what a rule reads (a role, decoupled from the config loader),
 * what it reports, and the rule itself. A finding reads like a cdk-nag rule: an id, what is wrong,
 * why it is dangerous, how to fix it; it may be suppressed on one role with a written reason.
 *
 * @see https://github.com/cdklabs/cdk-nag
 */
import { PolicyDocument } from '../iam/policy';

/** A deployment environment a role trusts. */
export interface FindingEnvironment {
  /** Environment UUID, lower case without braces. @example '5f1c0b9e-7d2a-4c3b-9e8f-0a1b2c3d4e5f' */
  readonly uuid: string;
  /** A label for messages. @default - messages show the UUID */
  readonly name?: string;
}

/** A repository a role trusts. */
export interface FindingRepository {
  /** Repository UUID, lower case without braces. */
  readonly uuid: string;
  /** A label for messages. @default - messages show the UUID */
  readonly name?: string;
  /** The environments whose deployment steps may assume the role; `[]` admits every step of the repository. */
  readonly environments: readonly FindingEnvironment[];
}

/** A suppression of one rule on one role, with the reason printed in every synth summary. */
export interface FindingSuppression {
  /** A rule id. @example 'BBOIDC-IAM1' */
  readonly rule: string;
  /** Why the finding is accepted; must not be empty. @example 'migrating off it by Q3' */
  readonly reason: string;
}

/** A role as the rules see it. */
export interface FindingRole {
  readonly account: { readonly name: string; readonly accountId: string };
  readonly name: string;
  readonly repositories: readonly FindingRepository[];
  readonly allowAllRepositories: boolean;
  readonly sourceIpCidrs: readonly string[];
  readonly managedPolicyArns: readonly string[];
  /** Inline policies by name. */
  readonly inlinePolicies: Readonly<Record<string, PolicyDocument>>;
  /** @default [] in the config */
  readonly suppressions: readonly FindingSuppression[];
}

/** How bad a finding is: an error fails the synth, a warning and an info are printed. */
export type FindingLevel = 'error' | 'warning' | 'info';

/** One problem of one role. */
export interface Finding {
  /** The rule id. @example 'BBOIDC-IAM1' */
  readonly rule: string;
  readonly level: FindingLevel;
  /** `<account>/<role>`. @example 'production/deploy' */
  readonly role: string;
  /** What is wrong, quoting the value. */
  readonly message: string;
  /** Why it is dangerous. */
  readonly why: string;
  /** How to fix it. */
  readonly fix: string;
  /** Set when a suppression on the role accepts the finding. @default - not suppressed */
  readonly suppressed?: { readonly reason: string };
}

/** What a rule's check reports; the rule adds its id, level, role and (unless given) why and fix. */
export interface RuleHit {
  readonly message: string;
  /** @default the rule's `why` */
  readonly why?: string;
  /** @default the rule's `fix` */
  readonly fix?: string;
}

/** A rule: one file under `rules/`, listed in `rules/index.ts`. */
export interface FindingRule {
  /** @example 'BBOIDC-IAM1' */
  readonly id: string;
  readonly level: FindingLevel;
  /** One line: what the rule finds. */
  readonly summary: string;
  /** Why what it finds is dangerous. */
  readonly why: string;
  /** How to fix it. */
  readonly fix: string;
  /** The hits on `role`; `all` is every role of the configuration, for rules that compare roles. */
  check(role: FindingRole, all: readonly FindingRole[]): readonly RuleHit[];
}
