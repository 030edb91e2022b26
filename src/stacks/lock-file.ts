/**
 * The AWS provider's dependency lock file (`.terraform.lock.hcl`): kept once in the project
 * (`terraform/.terraform.lock.hcl`) and copied into every synthesized stack, so `terraform init
 * -lockfile=readonly` checks the provider package against the recorded checksums (and, since
 * Terraform 1.4, the plugin cache is used at all). The synth refuses when the lock does not match
 * what the stacks pin: an upgrade of `@cdktf/provider-aws` without a new lock file stops here, not in
 * the pipeline.
 */
import { copyFileSync, existsSync, readFileSync, rmSync } from 'fs';
import * as path from 'path';

/** The lock file's name, in the project and in every stack. */
export const LOCK_FILE_NAME = '.terraform.lock.hcl';

/** The lock file's place in the project. */
export const LOCK_FILE_IN_PROJECT = path.join('terraform', LOCK_FILE_NAME);

/** Where the stacks' `source = "aws"` comes from. */
export const AWS_PROVIDER = 'registry.terraform.io/hashicorp/aws';

/** One `provider "..." { ... }` block of a lock file. */
export interface LockedProvider {
  readonly address: string;
  readonly version: string;
  /** As Terraform writes it: the version constraints of the configuration, e.g. `"6.25.0"`. */
  readonly constraints?: string;
  readonly hashes: readonly string[];
}

/** The AWS provider pin of one synthesized stack. */
export interface StackPin {
  readonly stack: string;
  /** The stack's Terraform file (relative to the output folder). */
  readonly file: string;
  /** `required_providers.aws.version`, or undefined when the stack requires no AWS provider. */
  readonly version?: string;
}

/** A lock file Terraform would not read as it is, or one that does not fit the stacks. */
export class LockFileError extends Error {}

/**
 * Parses a lock file in the format `terraform init` and `terraform providers lock` write (comments,
 * `provider` blocks with `version`, `constraints` and `hashes`); anything else is an error.
 */
export function parseLockFile(text: string, name = LOCK_FILE_NAME): LockedProvider[] {
  const providers: LockedProvider[] = [];
  const lines = text.split('\n');
  const fail = (index: number, what: string): never => {
    throw new LockFileError(`${name} line ${index + 1}: ${what} (found: ${JSON.stringify(lines[index]?.trim() ?? '')})`);
  };
  let i = 0;
  const skipBlank = () => {
    while (i < lines.length && (lines[i].trim() === '' || /^\s*(#|\/\/)/.test(lines[i]))) i++;
  };
  for (skipBlank(); i < lines.length; skipBlank()) {
    const header = /^provider "([^"]+)" \{$/.exec(lines[i].trim()) ?? fail(i, 'expected provider "<address>" {');
    i++;
    let version: string | undefined;
    let constraints: string | undefined;
    let hashes: string[] | undefined;
    for (;;) {
      skipBlank();
      if (i >= lines.length) fail(i - 1, `the block of ${header[1]} is not closed`);
      const line = lines[i].trim();
      i++;
      if (line === '}') break;
      const attribute = /^(version|constraints)\s*=\s*"([^"]*)"$/.exec(line);
      if (attribute?.[1] === 'version') version = attribute[2];
      else if (attribute?.[1] === 'constraints') constraints = attribute[2];
      else if (/^hashes\s*=\s*\[$/.test(line)) {
        hashes = [];
        for (skipBlank(); lines[i]?.trim() !== ']'; skipBlank()) {
          if (i >= lines.length) fail(i - 1, 'the hashes list is not closed');
          const hash = /^"((?:h1|zh):[^"]+)",?$/.exec(lines[i].trim()) ?? fail(i, 'expected "h1:..." or "zh:..."');
          hashes.push(hash[1]);
          i++;
        }
        i++;
      } else fail(i - 1, 'expected version, constraints or hashes');
    }
    if (version === undefined) throw new LockFileError(`${name}: the block of ${header[1]} has no version`);
    providers.push({ address: header[1], version, constraints, hashes: hashes ?? [] });
  }
  return providers;
}

/** The AWS provider pin of every stack of a synth's output folder (as its manifest lists them). */
export function stackPins(outdir: string): StackPin[] {
  const manifest = JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as {
    stacks: Record<string, { synthesizedStackPath: string }>;
  };
  return Object.entries(manifest.stacks).map(([stack, { synthesizedStackPath: file }]) => {
    const text = readFileSync(path.join(outdir, file), 'utf8');
    return { stack, file, version: file.endsWith('.json') ? jsonPin(text) : hclPin(text) };
  });
}

/** `terraform.required_providers.aws.version` of a `cdk.tf.json`. */
function jsonPin(text: string): string | undefined {
  const json = JSON.parse(text) as { terraform?: { required_providers?: { aws?: { version?: string } } } };
  return json.terraform?.required_providers?.aws?.version;
}

/** The same in the `cdk.tf` of `cdktf synth --hcl` (`required_providers { aws = { version = "..." ... } }`). */
function hclPin(text: string): string | undefined {
  const block = /required_providers\s*\{[^]*?\baws\s*=\s*\{([^}]*)\}/.exec(text);
  return block === null ? undefined : /\bversion\s*=\s*"([^"]*)"/.exec(block[1])?.[1];
}

/**
 * Why the lock file does not fit the stacks' pins, or undefined when it does: it must lock
 * `registry.terraform.io/hashicorp/aws` at exactly the version every stack pins, with the
 * `constraints` Terraform would record for them, and with checksums.
 */
export function lockMismatch(
  providers: readonly LockedProvider[],
  pins: readonly StackPin[],
  lockName = LOCK_FILE_IN_PROJECT,
): string | undefined {
  const pinned = [...new Set(pins.map((p) => p.version).filter((v): v is string => v !== undefined))];
  if (pinned.length === 0) return undefined;
  const upgrade = `Generate a lock file for ${pinned.join(', ')} (docs/providers.md) and replace ${lockName}.`;
  if (pinned.length > 1) {
    return `the stacks pin different versions of ${AWS_PROVIDER} (${pins.map((p) => `${p.stack}: ${p.version}`).join(', ')}); one lock file cannot serve them.`;
  }
  const [version] = pinned;
  const aws = providers.find((p) => p.address === AWS_PROVIDER);
  if (aws === undefined) return `${lockName} does not lock ${AWS_PROVIDER}, which the stacks pin at ${version}. ${upgrade}`;
  if (aws.version !== version) {
    return `${lockName} locks ${AWS_PROVIDER} ${aws.version}, but the stacks pin ${version} (the version @cdktf/provider-aws was generated from): terraform init -lockfile=readonly would fail. ${upgrade}`;
  }
  if (aws.constraints !== version) {
    return `${lockName} records the constraints ${JSON.stringify(aws.constraints ?? '')} for ${AWS_PROVIDER}, but the stacks require ${JSON.stringify(version)}: terraform init -lockfile=readonly would fail. ${upgrade}`;
  }
  if (!aws.hashes.some((h) => h.startsWith('h1:')) || !aws.hashes.some((h) => h.startsWith('zh:'))) {
    return `${lockName} has no h1: or no zh: checksums for ${AWS_PROVIDER} ${version}. ${upgrade}`;
  }
  return undefined;
}

/** The project's lock file: `terraform/.terraform.lock.hcl` in the first folder upwards of this module that has one. */
export function projectLockFile(from = __dirname): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, LOCK_FILE_IN_PROJECT);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * After `app.synth()`: copies the project's lock file into every stack of `outdir`. When the lock file
 * is missing, unreadable as a lock file, or does not match the stacks' pin, reports why (one `error:`
 * line and what to do), removes the stacks just written (they must not be deployed without it) and
 * returns false.
 */
export function copyLockFileIntoStacks(outdir: string, err: (line: string) => void, lockFile = projectLockFile()): boolean {
  const pins = stackPins(outdir);
  let problem: string | undefined;
  if (lockFile === undefined || !existsSync(lockFile)) {
    problem = `the provider lock file ${LOCK_FILE_IN_PROJECT} is missing from the project; restore it (git checkout -- ${LOCK_FILE_IN_PROJECT}) or generate one (docs/providers.md).`;
  } else {
    try {
      problem = lockMismatch(parseLockFile(readFileSync(lockFile, 'utf8'), lockFile), pins);
    } catch (error) {
      if (!(error instanceof LockFileError)) throw error;
      problem = `${error.message}. Restore ${LOCK_FILE_IN_PROJECT} from git or generate it again (docs/providers.md).`;
    }
  }
  if (problem === undefined && lockFile !== undefined) {
    for (const pin of pins) {
      if (pin.version !== undefined) copyFileSync(lockFile, path.join(outdir, path.dirname(pin.file), LOCK_FILE_NAME));
    }
    return true;
  }
  err(`error: ${problem}`);
  rmSync(path.join(outdir, 'stacks'), { recursive: true, force: true });
  err('Nothing was synthesized (the stacks just written were removed, so they cannot be deployed without a matching lock file).');
  return false;
}
