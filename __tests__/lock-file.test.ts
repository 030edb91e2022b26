/**
 * The AWS provider's lock file (`terraform/.terraform.lock.hcl`): that it locks exactly what the
 * stacks pin, in the form Terraform writes, that every synthesized stack gets a copy, that the synth
 * refuses a lock of another version, and, with the real `terraform`, that the lock has teeth: the stub
 * provider of the acceptance suite (whose checksums cannot be the real ones) is refused by
 * `init -lockfile=readonly`, and accepted once a lock for the stub replaces it.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { synthesize } from '../src/cli/synth';
import {
  AWS_PROVIDER,
  copyLockFileIntoStacks,
  LOCK_FILE_IN_PROJECT,
  LOCK_FILE_NAME,
  lockMismatch,
  LockFileError,
  LockedProvider,
  parseLockFile,
  projectLockFile,
  stackPins,
} from '../src/stacks/lock-file';
import { ROOT } from './support/synth';
import { lockFileForStub } from './support/terraform/stub-lock';
import { installStubProvider } from './support/terraform/plugin-dir';
import { describeWithTerraform, terraform, terraformEnv } from './support/terraform/terraform-cli';

const LOCK = path.join(ROOT, LOCK_FILE_IN_PROJECT);
const lockText = () => readFileSync(LOCK, 'utf8');
/** What `@cdktf/provider-aws` was generated from (its package.json says so). */
const BINDINGS = (
  JSON.parse(readFileSync(require.resolve('@cdktf/provider-aws/package.json'), 'utf8')) as {
    cdktf: { provider: { name: string; version: string } };
  }
).cdktf.provider;

/** A lock file as Terraform writes it (`internal/depsfile/locks_file.go`): the canonical form. */
function formatLock(providers: readonly LockedProvider[]): string {
  const blocks = [...providers]
    .sort((a, b) => a.address.localeCompare(b.address))
    .map((p) =>
      [
        `provider "${p.address}" {`,
        `  version     = "${p.version}"`,
        ...(p.constraints === undefined ? [] : [`  constraints = "${p.constraints}"`]),
        '  hashes = [',
        ...[...p.hashes].sort().map((h) => `    "${h}",`),
        '  ]',
        '}',
      ].join('\n'),
    );
  return `# This file is maintained automatically by "terraform init".\n# Manual edits may be lost in future updates.\n\n${blocks.join('\n\n')}\n`;
}

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'lock-file-test-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** Synthesizes the bundled example into `<work>/cdktf.out`. */
function synthExample(env: NodeJS.ProcessEnv = {}): { code: number; stderr: string; outdir: string } {
  const outdir = path.join(work, 'cdktf.out');
  const stderr: string[] = [];
  const code = synthesize({ env, cwd: ROOT, outdir, stdout: () => undefined, stderr: (l) => stderr.push(l) });
  return { code, stderr: stderr.join('\n'), outdir };
}

describe('terraform/.terraform.lock.hcl', () => {
  it('locks registry.terraform.io/hashicorp/aws at the version the stacks pin, which @cdktf/provider-aws was generated from', () => {
    const { code, outdir } = synthExample();
    expect(code).toBe(0);
    const pinned = [...new Set(stackPins(outdir).map((p) => p.version))];
    const providers = parseLockFile(lockText());
    expect(providers.map((p) => p.address)).toEqual([AWS_PROVIDER]);
    expect(BINDINGS.name).toBe(AWS_PROVIDER);
    expect(pinned).toEqual([BINDINGS.version]);
    expect(providers[0].version).toBe(BINDINGS.version);
    // Terraform records the configuration's constraint; cdktf pins the exact version.
    expect(providers[0].constraints).toBe(BINDINGS.version);
    expect(lockMismatch(providers, stackPins(outdir))).toBeUndefined();
  });

  it('has h1: checksums and the zh: checksums of every release zip', () => {
    const [aws] = parseLockFile(lockText());
    const h1 = aws.hashes.filter((h) => h.startsWith('h1:'));
    const zh = aws.hashes.filter((h) => h.startsWith('zh:'));
    expect(h1.every((h) => /^h1:[A-Za-z0-9+/]{43}=$/.test(h))).toBe(true);
    expect(zh.every((h) => /^zh:[0-9a-f]{64}$/.test(h))).toBe(true);
    expect(h1.length + zh.length).toBe(aws.hashes.length);
    expect(new Set(aws.hashes).size).toBe(aws.hashes.length);
    // Which platforms the h1: cover is not recorded in lock files (terraform/PROVENANCE.md says what is known).
    expect(h1.length).toBeGreaterThanOrEqual(1);
    // One zh: per file of terraform-provider-aws_<version>_SHA256SUMS: every platform's zip (and the manifest).
    expect(zh.length).toBeGreaterThanOrEqual(14);
  });

  it('is in the form Terraform writes (so `terraform init` leaves it unchanged) and holds no comments of ours', () => {
    expect(lockText()).toBe(formatLock(parseLockFile(lockText())));
  });

  it('has its sources recorded in terraform/PROVENANCE.md, hash by hash', () => {
    const provenance = readFileSync(path.join(ROOT, 'terraform', 'PROVENANCE.md'), 'utf8');
    const [aws] = parseLockFile(lockText());
    expect(provenance).toContain(`**${aws.version}**`);
    for (const hash of aws.hashes)
      expect(provenance).toMatch(new RegExp(`^\\| \`${hash.replace(/[+/=]/g, '\\$&')}\` \\| [^|]+ \\| (2|\\*\\*1\\*\\*)`, 'm'));
  });

  it('is what docs/providers.md says it is', () => {
    const page = readFileSync(path.join(ROOT, 'docs', 'providers.md'), 'utf8');
    const section = /^# Pinned providers\n([^]*?)^## /m.exec(page)?.[1] ?? '';
    const bindings = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> })
      .devDependencies['@cdktf/provider-aws'];
    expect(section).toContain(`${AWS_PROVIDER}\` **${parseLockFile(lockText())[0].version}**`);
    expect(section).toContain(`\`@cdktf/provider-aws\` ${bindings}`);
    expect(section).toContain('-lockfile=readonly');
  });

  it('is the one the synth finds from src/stacks and from the bundle in dist/', () => {
    expect(projectLockFile(path.join(ROOT, 'src', 'stacks'))).toBe(LOCK);
    expect(projectLockFile(path.join(ROOT, 'dist'))).toBe(LOCK);
    expect(projectLockFile(path.parse(ROOT).root)).toBeUndefined();
  });
});

describe('the synth', () => {
  it('copies the lock file into every stack it writes, bootstrap and workload, and into no other folder', () => {
    mkdirSync(path.join(work, 'cdktf.out', 'stacks', 'bitbucket-oidc-removed'), { recursive: true });
    const { code, outdir } = synthExample({ CDKTF_CONTEXT_JSON: JSON.stringify({ cdktfRelativeModules: ['./'] }) });
    expect(code).toBe(0);
    const stacks = stackPins(outdir).map((p) => path.dirname(p.file));
    expect(stacks.map((s) => path.basename(s)).sort()).toEqual([
      'bitbucket-oidc-production-bootstrap',
      'bitbucket-oidc-production-workload',
      'bitbucket-oidc-staging-bootstrap',
      'bitbucket-oidc-staging-workload',
    ]);
    for (const stack of stacks) expect(readFileSync(path.join(outdir, stack, LOCK_FILE_NAME), 'utf8')).toBe(lockText());
    expect(readdirSync(path.join(outdir, 'stacks', 'bitbucket-oidc-removed'))).toEqual([]);
  });

  it('copies it next to the cdk.tf of `cdktf synth --hcl` too', () => {
    process.env.SYNTH_HCL_OUTPUT = 'true';
    try {
      const { code, outdir } = synthExample();
      expect(code).toBe(0);
      const pins = stackPins(outdir);
      expect(pins.every((p) => p.file.endsWith('cdk.tf') && p.version === BINDINGS.version)).toBe(true);
      for (const pin of pins) expect(existsSync(path.join(outdir, path.dirname(pin.file), LOCK_FILE_NAME))).toBe(true);
    } finally {
      delete process.env.SYNTH_HCL_OUTPUT;
    }
  });

  it('refuses a lock file of another version with what to do, and removes the stacks it wrote', () => {
    const { code, outdir } = synthExample();
    expect(code).toBe(0);
    const stale = path.join(work, 'stale.lock.hcl');
    writeFileSync(
      stale,
      lockText()
        .replace(/"6\.25\.0"/g, '"6.24.0"')
        .replace(/version {5}= "[^"]+"/, 'version     = "6.24.0"'),
    );
    const errors: string[] = [];
    expect(copyLockFileIntoStacks(outdir, (l) => errors.push(l), stale)).toBe(false);
    expect(errors[0]).toBe(
      `error: ${LOCK_FILE_IN_PROJECT} locks ${AWS_PROVIDER} 6.24.0, but the stacks pin ${BINDINGS.version} (the version @cdktf/provider-aws was generated from): ` +
        `terraform init -lockfile=readonly would fail. Generate a lock file for ${BINDINGS.version} (docs/providers.md) and replace ${LOCK_FILE_IN_PROJECT}.`,
    );
    expect(errors[1]).toMatch(/^Nothing was synthesized/);
    expect(existsSync(path.join(outdir, 'stacks'))).toBe(false);
  });

  it('refuses a missing lock file, and one Terraform would not read', () => {
    const { outdir } = synthExample();
    const errors: string[] = [];
    expect(copyLockFileIntoStacks(outdir, (l) => errors.push(l), path.join(work, 'missing.hcl'))).toBe(false);
    expect(errors[0]).toMatch(/^error: the provider lock file terraform\/\.terraform\.lock\.hcl is missing from the project; restore it/);

    const again = synthExample();
    const broken = path.join(work, 'broken.hcl');
    writeFileSync(broken, lockText().replace('  hashes = [', '  hashes = ['.replace('[', '{')));
    errors.length = 0;
    expect(copyLockFileIntoStacks(again.outdir, (l) => errors.push(l), broken)).toBe(false);
    expect(errors[0]).toMatch(
      /^error: .*broken\.hcl line 7: expected version, constraints or hashes \(found: "hashes = \{"\)\. Restore terraform\/\.terraform\.lock\.hcl from git/,
    );
  });
});

describe('lockMismatch', () => {
  const aws = (over: Partial<LockedProvider> = {}): LockedProvider => ({
    address: AWS_PROVIDER,
    version: '6.25.0',
    constraints: '6.25.0',
    hashes: ['h1:x', 'zh:y'],
    ...over,
  });
  const pins = (...versions: (string | undefined)[]) =>
    versions.map((version, i) => ({ stack: `s${i}`, file: `stacks/s${i}/cdk.tf.json`, version }));

  it('accepts the lock of the pinned version, and stacks without the AWS provider', () => {
    expect(lockMismatch([aws()], pins('6.25.0', '6.25.0'))).toBeUndefined();
    expect(lockMismatch([], pins(undefined))).toBeUndefined();
  });

  it('names what differs', () => {
    expect(lockMismatch([aws({ constraints: '~> 6.0' })], pins('6.25.0'))).toMatch(
      /records the constraints "~> 6\.0" for .*, but the stacks require "6\.25\.0"/,
    );
    expect(lockMismatch([aws({ hashes: ['zh:y'] })], pins('6.25.0'))).toMatch(/has no h1: or no zh: checksums/);
    expect(lockMismatch([{ ...aws(), address: 'registry.terraform.io/hashicorp/random' }], pins('6.25.0'))).toMatch(
      /does not lock registry\.terraform\.io\/hashicorp\/aws, which the stacks pin at 6\.25\.0/,
    );
    expect(lockMismatch([aws()], pins('6.25.0', '6.26.0'))).toMatch(/the stacks pin different versions .*\(s0: 6\.25\.0, s1: 6\.26\.0\)/);
  });
});

describe('parseLockFile', () => {
  it('reads what Terraform writes, several providers and no constraints included', () => {
    const text = formatLock([
      { address: 'registry.terraform.io/hashicorp/random', version: '3.7.2', hashes: ['h1:a='] },
      { address: AWS_PROVIDER, version: '6.25.0', constraints: '>= 6.0, 6.25.0', hashes: ['zh:00', 'h1:b='] },
    ]);
    expect(parseLockFile(text)).toEqual([
      { address: AWS_PROVIDER, version: '6.25.0', constraints: '>= 6.0, 6.25.0', hashes: ['h1:b=', 'zh:00'] },
      { address: 'registry.terraform.io/hashicorp/random', version: '3.7.2', constraints: undefined, hashes: ['h1:a='] },
    ]);
  });

  it('rejects what it does not know, with the line', () => {
    expect(() => parseLockFile('provider "x" {\n  version = "1"\n  hashes = [\n    "md5:00",\n  ]\n}\n')).toThrow(
      new LockFileError('.terraform.lock.hcl line 4: expected "h1:..." or "zh:..." (found: "\\"md5:00\\",")'),
    );
    expect(() => parseLockFile('provider "x" {\n  version = "1"\n')).toThrow(/the block of x is not closed/);
    expect(() => parseLockFile('provider "x" {\n}\n')).toThrow(/the block of x has no version/);
    expect(() => parseLockFile('module "x" {\n}\n')).toThrow(/line 1: expected provider "<address>" \{/);
  });
});

describeWithTerraform(
  () => 'with the real terraform and the stub provider of the acceptance suite',
  () => {
    let root: string;
    let pluginDir: string;
    let env: NodeJS.ProcessEnv;
    let stackDir: string;
    beforeAll(() => {
      root = mkdtempSync(path.join(tmpdir(), 'lock-file-terraform-'));
      pluginDir = installStubProvider(root, { resources: [], dataSources: [] }).pluginDir;
      env = terraformEnv(root);
      // The smallest stack there is: the configuration of every synthesized stack, no resources.
      stackDir = path.join(root, 'stack');
      mkdirSync(stackDir);
      writeFileSync(
        path.join(stackDir, 'main.tf.json'),
        JSON.stringify({ terraform: { required_providers: { aws: { source: 'aws', version: BINDINGS.version } } } }),
      );
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('refuses the stub under the real lock file: init -lockfile=readonly fails with the checksum mismatch', async () => {
      copyFileSync(LOCK, path.join(stackDir, LOCK_FILE_NAME));
      const run = await terraform(stackDir, ['init', '-input=false', '-no-color', '-lockfile=readonly', `-plugin-dir=${pluginDir}`], env);
      expect(run.code).toBe(1);
      expect(run.stderr.replace(/\s+/g, ' ')).toContain(
        `the local package for ${AWS_PROVIDER} ${BINDINGS.version} doesn't match any of the checksums previously recorded in the dependency lock file`,
      );
      // And the lock file is left as it was.
      expect(readFileSync(path.join(stackDir, LOCK_FILE_NAME), 'utf8')).toBe(lockText());
    });

    it('accepts the stub once a lock file generated for it replaces the real one (what the acceptance suite does)', async () => {
      const stubLock = await lockFileForStub(pluginDir, BINDINGS.version, path.join(root, 'stub-lock'), env);
      const [locked] = parseLockFile(stubLock);
      expect(locked).toMatchObject({ address: AWS_PROVIDER, version: BINDINGS.version, constraints: BINDINGS.version });
      expect(locked.hashes.every((h) => h.startsWith('h1:'))).toBe(true);
      expect(locked.hashes.some((h) => parseLockFile(lockText())[0].hashes.includes(h))).toBe(false);
      writeFileSync(path.join(stackDir, LOCK_FILE_NAME), stubLock);
      const run = await terraform(stackDir, ['init', '-input=false', '-no-color', '-lockfile=readonly', `-plugin-dir=${pluginDir}`], env);
      expect(`${run.stderr}${run.stdout}`).toContain('Terraform has been successfully initialized');
      expect(run.code).toBe(0);
      expect(readFileSync(path.join(stackDir, LOCK_FILE_NAME), 'utf8')).toBe(stubLock);
    });
  },
);
