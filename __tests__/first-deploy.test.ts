/**
 * The first deploy of the README, end to end, through the real `terraform` against the stub
 * hashicorp/aws provider of the acceptance suite, with every stack's S3 backend pointed at a local S3
 * emulator (s3rver on 127.0.0.1, `support/s3-emulator.ts`): the state account's bootstrap stack with
 * local state, its state moved into the bucket, the other account's bootstrap stack, then what the
 * pipeline does with each account's workload stack. State objects, lock files (S3 conditional writes)
 * and the backend's configuration are the real S3 backend's; only AWS is faked.
 *
 * The README's "First deploy" block is run as written (read from between its markers), except:
 * - `npm run synth`: the bundled example is synthesized in-process (`buildApp`), without the provider
 *   lock file (the stub's checksums are not the real provider's);
 * - AWS profiles: the emulator's keys instead, through a `-backend-config` file where the README passes
 *   `-backend-config=profile=...` or relies on `AWS_PROFILE` for the backend (the bootstrap script);
 * - `terraform apply` confirms by itself (`TF_CLI_ARGS_apply=-auto-approve`).
 * The stub fakes AWS and does not reach the emulator: the bootstrap script runs Terraform through a
 * stand-in (its `TERRAFORM`) that, after a successful `apply`, creates in the emulator the buckets the
 * applied state holds, as AWS would have. So the script meets a missing bucket first, as on a real
 * first deploy.
 *
 * Terraform finds the stub through a CLI configuration's filesystem mirror and starts it per command,
 * as it would the real provider. Every command is bounded in time; everything runs on 127.0.0.1; the
 * temp folder is removed at the end. Without `terraform` on the PATH the suite is skipped (in CI it fails).
 */
import { spawn } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { stateStoragePolicies } from '../src/config/state-section';
import { stackName, stateKey } from '../src/config/types';
import { validateConfig } from '../src/config/validate';
import { buildApp } from '../src/stacks/app';
import { emulatorBackendConfig, S3Emulator, startS3Emulator } from './support/s3-emulator';
import { exampleConfig, ROOT } from './support/synth';
import { installStubProvider } from './support/terraform/plugin-dir';
import { describeWithTerraform, terraformEnv } from './support/terraform/terraform-cli';

/** Longest any one command may run before it is stopped (a hung provider or backend fails the test). */
const COMMAND_TIMEOUT_MS = 60_000;
jest.setTimeout(180_000);

/** One command as run. */
interface Ran {
  readonly command: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** Runs a shell command line in `cwd`, stopped after `COMMAND_TIMEOUT_MS`. */
function run(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: COMMAND_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('close', (code) =>
      resolve({
        command,
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      }),
    );
  });
}

const describeRan = (ran: Ran) =>
  `$ ${ran.command}\nexit ${ran.code} after ${ran.seconds.toFixed(1)} s\n${`${ran.stderr}\n${ran.stdout}`.trim().split('\n').slice(-30).join('\n')}`;

/**
 * A stand-in for `terraform` (the bootstrap script's `TERRAFORM`): runs `terraform`, then, after a
 * successful `apply`, does what AWS does for each `aws_s3_bucket` the stub "created": creates the
 * bucket, in the emulator (an anonymous CreateBucket). Written into `dir`; returns its path.
 */
function writeTerraformCreatingBuckets(dir: string, endpoint: string): string {
  const createBuckets = path.join(dir, 'create-buckets.js');
  writeFileSync(
    createBuckets,
    [
      "const fs = require('fs'), path = require('path');",
      'const dir = process.argv[2];',
      "const buckets = fs.readdirSync(dir).filter((f) => f.endsWith('.tfstate'))",
      "  .flatMap((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).resources ?? [])",
      "  .filter((r) => r.type === 'aws_s3_bucket').map((r) => r.instances[0].attributes.bucket);",
      `Promise.all(buckets.map((b) => fetch(${JSON.stringify(endpoint)} + '/' + b, { method: 'PUT' })))`,
      '  .then((answers) => process.exit(answers.every((a) => a.ok) ? 0 : 1));',
      '',
    ].join('\n'),
  );
  const standIn = path.join(dir, 'terraform-creating-buckets');
  writeFileSync(
    standIn,
    [
      '#!/usr/bin/env bash',
      'terraform "$@" || exit $?',
      'case " $* " in *" apply "*) ;; *) exit 0 ;; esac',
      'dir=.; for arg in "$@"; do case "$arg" in -chdir=*) dir="${arg#-chdir=}" ;; esac; done',
      `exec node ${JSON.stringify(createBuckets)} "$dir"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return standIn;
}

/** The README's first-deploy commands, one per line, comments dropped. */
function readmeFirstDeployCommands(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- first-deploy:start -->\n```sh\n([\s\S]*?)```\n<!-- first-deploy:end -->/.exec(readme)?.[1];
  if (block === undefined)
    throw new Error('README.md has no first-deploy block between <!-- first-deploy:start --> and <!-- first-deploy:end -->');
  return block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** A README command as the test runs it against the emulator (see the file comment). */
function againstEmulator(command: string, backendConfig: string): string {
  const viaFile = `-backend-config=${backendConfig}`;
  let line = command.replace(/-backend-config=profile=\S+/g, viaFile).replace(/^AWS_PROFILE=\S+\s+/, '');
  if (/^scripts\/bootstrap-state\.sh \S+$/.test(line)) line = `${line} ${viaFile}`;
  return line;
}

describeWithTerraform(
  (version) => `the README's first deploy, through Terraform ${version} and an S3 emulator`,
  () => {
    const root = mkdtempSync(path.join(tmpdir(), 'bitbucket-oidc-first-deploy-'));
    const work = path.join(root, 'work');
    const stacksDir = path.join(work, 'cdktf.out', 'stacks');
    const { config } = validateConfig(exampleConfig());
    const { bucket } = config.state;
    const stateAccount = config.state.account!.name;
    const workloads = config.accounts.map((account) => stackName(account, 'workload'));
    let emulator: S3Emulator | undefined;
    let env: NodeJS.ProcessEnv = {};
    let backendConfig = '';
    const ran: Ran[] = [];
    let failure: string | undefined;
    let seconds = 0;
    let bucketBefore: boolean | undefined;

    const step = async (command: string): Promise<Ran> => {
      const result = await run(command, work, env);
      ran.push(result);
      return result;
    };
    const statesInBucket = async () =>
      Object.fromEntries(
        await Promise.all(
          (await emulator!.keys(bucket)).map(async (key) => [key, JSON.parse((await emulator!.read(bucket, key))!)] as const),
        ),
      );

    beforeAll(async () => {
      const started = process.hrtime.bigint();
      // `npm run synth`, in-process, into the work folder's cdktf.out/.
      mkdirSync(work, { recursive: true });
      buildApp(config, { outdir: path.join(work, 'cdktf.out') }).app.synth();
      symlinkSync(path.join(ROOT, 'scripts'), path.join(work, 'scripts'));

      const types = new Set<string>();
      for (const stack of readdirSync(stacksDir)) {
        const json = JSON.parse(readFileSync(path.join(stacksDir, stack, 'cdk.tf.json'), 'utf8')) as { resource?: object };
        Object.keys(json.resource ?? {}).forEach((type) => types.add(type));
      }
      const provider = installStubProvider(root, { resources: [...types], dataSources: [] });
      const cliConfig = path.join(root, 'mirror.tfrc');
      writeFileSync(
        cliConfig,
        `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(provider.pluginDir)}\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n`,
      );
      const aws = Object.fromEntries(Object.entries(terraformEnv(root)).filter(([key]) => !/^AWS_/.test(key)));
      env = {
        ...aws,
        TF_CLI_CONFIG_FILE: cliConfig,
        TF_CLI_ARGS_apply: '-auto-approve',
        // No shared AWS configuration and no instance metadata: only the emulator's keys exist here.
        AWS_CONFIG_FILE: path.join(root, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(root, 'no-aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
      };

      emulator = await startS3Emulator(path.join(root, 's3'));
      backendConfig = path.join(root, 'emulator.s3.tfbackend');
      writeFileSync(backendConfig, emulatorBackendConfig(emulator.endpoint));
      env = { ...env, TERRAFORM: writeTerraformCreatingBuckets(root, emulator.endpoint) };
      bucketBefore = await emulator.bucketExists(bucket);

      // 1. The README's first deploy.
      const commands = readmeFirstDeployCommands();
      expect(commands.slice(0, 2)).toEqual(['export BITBUCKET_OIDC_CONFIG=config/acme.json', 'npm run synth']);
      for (const command of commands.slice(2)) {
        const result = await step(againstEmulator(command, backendConfig));
        if (result.code !== 0) {
          failure = describeRan(result);
          return;
        }
      }
      // 2. The pipeline, for each account: plan to a file, apply that file.
      for (const stack of workloads) {
        for (const command of [
          `terraform -chdir=cdktf.out/stacks/${stack} init -input=false -backend-config=${backendConfig}`,
          `terraform -chdir=cdktf.out/stacks/${stack} plan -input=false -lock-timeout=10s -out=tfplan`,
          `terraform -chdir=cdktf.out/stacks/${stack} apply -input=false tfplan`,
        ]) {
          const result = await step(command);
          if (result.code !== 0) {
            failure = describeRan(result);
            return;
          }
        }
      }
      seconds = Number(process.hrtime.bigint() - started) / 1e9;
      console.log(
        `first deploy: ${ran.length} commands (${commands.length - 2} from the README) in ${seconds.toFixed(1)} s, state in ${emulator.endpoint}`,
      );
    });

    afterAll(async () => {
      await emulator?.stop();
      rmSync(root, { recursive: true, force: true });
    });

    const done = () => {
      if (failure !== undefined) throw new Error(`a command failed:\n${failure}`);
    };

    it("runs every README command, and the pipeline's plan and apply of each workload stack, to the end", () => {
      done();
      expect(bucketBefore).toBe(false);
      expect(ran.every((r) => r.code === 0)).toBe(true);
      expect(ran.map((r) => r.command)).toContainEqual(expect.stringMatching(/^scripts\/bootstrap-state\.sh production -backend-config=/));
    });

    it("keeps every stack's state in the bucket, each under its own key, and no lock file once done", async () => {
      done();
      const expected = config.accounts.flatMap((account) => [
        stateKey(config.state.keyPrefix, account, 'bootstrap'),
        stateKey(config.state.keyPrefix, account, 'workload'),
      ]);
      expect(await emulator!.keys(bucket)).toEqual(expected.sort());
    });

    it("moved the state account's bootstrap state into the bucket that state holds", async () => {
      done();
      const states = await statesInBucket();
      const own = states[stateKey(config.state.keyPrefix, { name: stateAccount }, 'bootstrap')];
      const resources = own.resources as { type: string; instances: { attributes: Record<string, unknown> }[] }[];
      const ofType = (type: string) => resources.filter((r) => r.type === type).map((r) => r.instances[0].attributes);
      expect(ofType('aws_s3_bucket').map((b) => b.bucket)).toEqual([bucket]);
      expect(ofType('aws_s3_bucket_policy').map((p) => JSON.parse(String(p.policy)))).toEqual([stateStoragePolicies(config).bucketPolicy]);
      expect(
        ofType('aws_iam_role')
          .map((r) => r.name)
          .sort(),
      ).toEqual(['bitbucket-deploy', 'bitbucket-plan']);
    });

    it("holds each account's own roles in its workload state", async () => {
      done();
      const states = await statesInBucket();
      for (const account of config.accounts) {
        const state = states[stateKey(config.state.keyPrefix, account, 'workload')];
        const roles = (state.resources as { type: string; instances: { attributes: { name: string } }[] }[])
          .filter((r) => r.type === 'aws_iam_role')
          .map((r) => r.instances[0].attributes.name);
        expect({ account: account.name, roles }).toEqual({ account: account.name, roles: account.roles.map((r) => r.name) });
      }
    });

    it('leaves no local state and no override file in any stack folder', () => {
      done();
      for (const stack of readdirSync(stacksDir)) {
        const left = readdirSync(path.join(stacksDir, stack)).filter((f) => /tfstate|override/.test(f));
        expect({ stack, left }).toEqual({ stack, left: [] });
      }
    });

    it("refuses to bootstrap the state account again, leaving the bucket's state as it was", async () => {
      done();
      const key = stateKey(config.state.keyPrefix, { name: stateAccount }, 'bootstrap');
      const before = await emulator!.read(bucket, key);
      const again = await step(againstEmulator(`scripts/bootstrap-state.sh ${stateAccount}`, backendConfig));
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`the bucket already holds the state of ${stackName({ name: stateAccount }, 'bootstrap')}`);
      expect(await emulator!.read(bucket, key)).toBe(before);
      expect(existsSync(path.join(stacksDir, stackName({ name: stateAccount }, 'bootstrap'), 'zz_bootstrap_state_override.tf.json'))).toBe(
        false,
      );
    });

    it('refuses when the bucket cannot be read (here an unknown access key), since it may hold the state, and changes nothing', async () => {
      done();
      const wrongKeys = path.join(root, 'wrong-keys.s3.tfbackend');
      writeFileSync(wrongKeys, emulatorBackendConfig(emulator!.endpoint).replace(/access_key = ".*"/, 'access_key = "AKIAUNKNOWN"'));
      const keysBefore = await emulator!.keys(bucket);
      const refused = await step(`scripts/bootstrap-state.sh ${stateAccount} -backend-config=${wrongKeys}`);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('failed for another reason than a missing bucket');
      expect(refused.stderr).toContain('InvalidAccessKeyId');
      expect(await emulator!.keys(bucket)).toEqual(keysBefore);
    });

    it('refuses an account whose bootstrap stack does not create the bucket, before running Terraform', async () => {
      done();
      const other = config.accounts.find((a) => a.name !== stateAccount)!;
      const refused = await step(`scripts/bootstrap-state.sh ${other.name}`);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`${stackName(other, 'bootstrap')} does not create the state bucket`);
    });

    it('holds a plan while someone else holds the lock: the emulator refuses the conditional write, as S3 does', async () => {
      done();
      const [account] = config.accounts;
      const lockKey = `${stateKey(config.state.keyPrefix, account, 'workload')}.tflock`;
      const refusedBefore = emulator!.refusedConditionalWrites;
      await emulator!.write(
        bucket,
        lockKey,
        JSON.stringify({
          ID: 'held-by-alice',
          Operation: 'OperationTypeApply',
          Who: 'alice@laptop',
          Version: '1.11.4',
          Created: '2026-01-01T00:00:00Z',
          Path: `${bucket}/${lockKey}`,
        }),
      );
      const blocked = await step(`terraform -chdir=cdktf.out/stacks/${stackName(account, 'workload')} plan -input=false -lock-timeout=0s`);
      expect(blocked.code).not.toBe(0);
      expect(blocked.stderr).toContain('Error acquiring the state lock');
      expect(blocked.stderr).toContain('held-by-alice');
      expect(emulator!.refusedConditionalWrites).toBe(refusedBefore + 1);
      expect(await emulator!.read(bucket, lockKey)).toContain('held-by-alice');
    });
  },
);
