/**
 * The pipeline rehearsal: `bitbucket-pipelines.yml` run step by step as Bitbucket runs it, against
 * stand-ins on 127.0.0.1 for everything a pipeline reaches:
 * - the repository: the working tree committed into a bare repository (`snapshot.ts`);
 * - Bitbucket's runner: fresh clones, artifacts, caches, variables (`runner.ts`);
 * - Bitbucket's OIDC issuer: a token per `oidc: true` step with that step's claims (`oidc-issuer.ts`);
 * - AWS: STS, S3 and IAM deciding with the independent engine (`local-aws/`);
 * - HashiCorp's releases: the machine's Terraform served as the pinned archive (`terraform-releases.ts`);
 * - the Terraform registry: the stub `hashicorp/aws` provider in a filesystem mirror, whose checksums
 *   replace terraform/.terraform.lock.hcl in the rehearsed commit.
 *
 * Before the pipeline, an administrator runs the first deploy as the README shows it (the state
 * account's `scripts/bootstrap-state.sh`, then every other bootstrap stack) with credentials the local
 * AWS knows; then the pipeline takes over. What the rehearsal cannot show is in docs/pipeline.md.
 */
import { execFileSync, spawn } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { homedir, tmpdir } from 'os';
import * as path from 'path';
import { readConfigFile } from '../../../src/config/load';
import { lockPathFor } from '../../../src/config/lock';
import { ResolvedAccount, ResolvedConfig, stackName, stateKey } from '../../../src/config/types';
import { deploymentStepsSnippet } from '../../../src/ci';
import { buildApp } from '../../../src/stacks/app';
import { installStubProvider, StubProvider } from '../terraform/plugin-dir';
import { lockFileForStub } from '../terraform/stub-lock';
import { terraformEnv } from '../terraform/terraform-cli';
import { ArtifactSet } from './artifacts';
import { LocalAws, startLocalAws } from './local-aws';
import { Credentials } from './local-aws/world';
import { node24BinDir } from './node24';
import { OidcIssuer, startOidcIssuer } from './oidc-issuer';
import { PipelineFile, pipelineFor, PipelineTrigger, readPipelineFile, StepDefinition } from './pipeline-file';
import { runPipeline, runStep, RunnerOptions, StepResult } from './runner';
import { Snapshot, snapshotWorkingTree } from './snapshot';
import { startTerraformReleases, TerraformReleases } from './terraform-releases';

/** The branch pull requests are opened from, and the one they merge into. */
export const FEATURE_BRANCH = 'feature/rehearsal';
export const MAIN_BRANCH = 'main';
export const PULL_REQUEST: PipelineTrigger = { pullRequest: { source: FEATURE_BRANCH, destination: MAIN_BRANCH, id: 1 } };
export const PUSH_TO_MAIN: PipelineTrigger = { branch: MAIN_BRANCH };
/** The custom pipeline that checks the lock file against Bitbucket, run on main. */
export const CHECK_NAMES: PipelineTrigger = { custom: 'check-names', branch: MAIN_BRANCH };
/** The custom pipeline that checks every account's workload stack for drift, run on main. */
export const DRIFT_CHECK: PipelineTrigger = { custom: 'drift-check', branch: MAIN_BRANCH };

/** The Terraform version scripts/install-terraform.sh pins (the archive is served under it). */
const TERRAFORM_VERSION_LINE = /^TERRAFORM_VERSION="([^"]+)"$/m;
const PIPELINE_FILE = 'bitbucket-pipelines.yml';

/** How step 1 (`npm ci`, `npm test`) runs. */
export type TestStepMode =
  /** As written: `npm ci` and the whole `npm test` (which runs this rehearsal again, in quick mode). */
  | 'exact'
  /**
   * Inside `npm test`: `npm ci` links the checkout's node_modules instead (a minute saved), and
   * `npm test` runs only the suite that checks the user's configuration (no recursion).
   */
  | 'quick';

/** Options of a rehearsal. */
export interface RehearsalOptions {
  /** The project checkout (a git work tree). */
  readonly root: string;
  /** BITBUCKET_OIDC_CONFIG as the repository variable sets it: a path inside the repository. */
  readonly configFile: string;
  /**
   * Files added to the rehearsed commit (path -> content), e.g. a configuration nobody committed, or a
   * `bitbucket-pipelines.yml` with the deployment steps of another configuration.
   */
  readonly files?: Readonly<Record<string, string>>;
  readonly testStep: TestStepMode;
  /** Where progress lines go. @default - nowhere */
  readonly out?: (line: string) => void;
  /** A step's time limit. @default 900 */
  readonly stepTimeoutSeconds?: number;
}

/** One command the administrator ran. */
export interface AdminCommand {
  readonly command: string;
  readonly code: number | null;
  readonly output: string;
  readonly seconds: number;
}

/** A pipeline run: its steps' results, and what each step's successors get as artifacts. */
export interface PipelineRun {
  readonly name: string;
  readonly trigger: PipelineTrigger;
  readonly results: StepResult[];
  readonly buildNumber: number;
}

/** Per-run changes to a step (scenarios). */
export interface StepOverrides {
  /** Replaces the token the step gets (`undefined`: the one Bitbucket would issue). */
  readonly token?: (bitbucket: Readonly<Record<string, string>>) => string;
  /** Extra variables (e.g. `EXPLAIN_JS` for a step without the doctor). */
  readonly variables?: Readonly<Record<string, string>>;
  /** Replaces the step's script. */
  readonly script?: readonly string[];
}

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * How this machine reaches the npm registry (a CA bundle, a proxy): passed into every step, as the
 * step's container would reach it on Bitbucket's network. Nothing else of this process's environment is.
 */
const MACHINE_NETWORK = [
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'npm_config_registry',
  'npm_config_cafile',
];

/** The MACHINE_NETWORK variables this process has. */
function machineNetwork(): Record<string, string> {
  return Object.fromEntries(MACHINE_NETWORK.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]!]])));
}

/** A rehearsal in progress: start it, run the first deploy, then pipelines; stop it at the end. */
export class Rehearsal {
  private buildNumber = 0;

  private constructor(
    readonly options: RehearsalOptions,
    readonly work: string,
    readonly config: ResolvedConfig,
    readonly pipelineFile: PipelineFile,
    readonly snapshot: Snapshot,
    readonly aws: LocalAws,
    readonly issuer: OidcIssuer,
    readonly releases: TerraformReleases,
    readonly stub: StubProvider,
    /** The stub's `h1:` checksum, added to every synthesized stack's lock file. */
    readonly stubHash: string,
    readonly admins: Readonly<Record<string, Credentials>>,
    private readonly nodeBinDir: string,
    private readonly cliConfigFile: string,
  ) {}

  /** Sets everything up; on failure, whatever was started is stopped and the folder removed. */
  static async start(options: RehearsalOptions): Promise<Rehearsal> {
    const out = options.out ?? (() => undefined);
    const work = mkdtempSync(path.join(tmpdir(), 'bitbucket-oidc-rehearsal-'));
    const stops: (() => Promise<void>)[] = [];
    try {
      const config = readConfigUnderRehearsal(options, path.join(work, 'config-under-rehearsal'));
      if (config.pipeline === undefined) {
        throw new Error(
          `${options.configFile} has no "pipeline" section, so no account has a plan or deploy role and the pipeline's OIDC steps cannot run: add it (docs/configuration.md, "The pipeline roles")`,
        );
      }
      const pipelineText = options.files?.[PIPELINE_FILE] ?? readFileSync(path.join(options.root, PIPELINE_FILE), 'utf8');
      const pipelineFile = readPipelineFile(pipelineText);

      // The registry: the stub provider in a filesystem mirror, and a lock file for it.
      const stub = installStubProvider(path.join(work, 'registry'), stackTypes(config, path.join(work, 'types')));
      const cliConfigFile = path.join(work, 'registry', 'mirror.tfrc');
      writeFileSync(
        cliConfigFile,
        `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(stub.pluginDir)}\n    include = ["${stub.address}"]\n  }\n}\n`,
      );
      const stubHash = stubChecksum(
        await lockFileForStub(stub.pluginDir, stub.version, path.join(work, 'registry', 'lock'), terraformEnv(path.join(work, 'registry'))),
      );

      const snapshot = snapshotWorkingTree(options.root, path.join(work, 'git'), [MAIN_BRANCH, FEATURE_BRANCH], options.files);
      out(
        `rehearsing commit ${snapshot.commit.slice(0, 12)}: the working tree${snapshot.uncommitted ? ' (uncommitted changes included)' : ''}`,
      );

      mkdirSync(path.join(work, 's3'));
      const aws = await startLocalAws({ directory: path.join(work, 's3') });
      stops.push(() => aws.stop());
      const admins = Object.fromEntries(config.accounts.map((account) => [account.name, aws.world.addAccount(account.accountId)]));
      const issuer = startOidcIssuer(config.workspace, config.workspaceUuid);
      aws.world.registerIssuerKeys(issuer.url, issuer.jwks as { keys: object[] });
      for (const account of config.accounts.filter((a) => a.reuseProvider)) {
        // The provider the account already has (existingProviderArn), listing the workspace's audiences.
        aws.world.oidcProviders.set(account.providerArn, {
          arn: account.providerArn,
          url: issuer.url,
          clientIds: [...config.audiences],
          thumbprints: [],
          tags: {},
        });
        out(
          `account ${account.name} reuses its provider: the local AWS has it, with the client IDs ${config.audiences.join(', ')} (check yours: aws iam get-open-id-connect-provider)`,
        );
      }

      const installer = readFileSync(path.join(options.root, 'scripts', 'install-terraform.sh'), 'utf8');
      const version = TERRAFORM_VERSION_LINE.exec(installer)?.[1];
      if (version === undefined) throw new Error('scripts/install-terraform.sh has no TERRAFORM_VERSION="..." line');
      const binary = execFileSync('bash', ['-c', 'command -v terraform'], { encoding: 'utf8' }).trim();
      mkdirSync(path.join(work, 'releases'));
      const releases = await startTerraformReleases({ binary, version, directory: path.join(work, 'releases') });
      stops.push(() => releases.stop());
      const nodeBinDir = await node24BinDir();
      out(
        `local AWS: STS ${aws.stsEndpoint}, S3 ${aws.s3Endpoint}; Terraform ${version} served from ${releases.url} (the machine's ${binary}); Node.js 24 from ${nodeBinDir}`,
      );
      const network = Object.keys(machineNetwork());
      if (network.length > 0) out(`this machine's network settings, passed to every step: ${network.join(', ')}`);
      return new Rehearsal(
        options,
        work,
        config,
        pipelineFile,
        snapshot,
        aws,
        issuer,
        releases,
        stub,
        stubHash,
        admins,
        nodeBinDir,
        cliConfigFile,
      );
    } catch (error) {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
      throw error;
    }
  }

  /** Stops every server and removes every file of the rehearsal. */
  async stop(): Promise<void> {
    await Promise.allSettled([this.aws.stop(), this.releases.stop()]);
    rmSync(this.work, { recursive: true, force: true });
  }

  private out(line: string): void {
    this.options.out?.(line);
  }

  private stsSeen = 0;

  /** Which roles the steps since the last call assumed (or were refused), from the local STS's log. */
  private rolesAssumedSinceLastStep(): string {
    const entries = this.aws.stsLog.slice(this.stsSeen).filter((e) => e.action === 'AssumeRoleWithWebIdentity');
    this.stsSeen = this.aws.stsLog.length;
    if (entries.length === 0) return 'no role assumed';
    const roles = [...new Set(entries.map((e) => `${e.roleArn} (${e.code === 'OK' ? 'assumed' : `refused: ${e.code}`})`))];
    return `role ${roles.join(', ')}`;
  }

  /** The AWS profile of an account's administrator: `<workspace>-<account>-admin`, as the README names them. */
  adminProfile(account: Pick<ResolvedAccount, 'name'>): string {
    return `${this.config.workspace}-${account.name}-admin`;
  }

  /** The endpoint settings every Terraform run needs to reach the stand-ins (set as repository variables). */
  private standIns(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_STS: this.aws.stsEndpoint,
      AWS_ENDPOINT_URL_S3: this.aws.s3Endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      TF_CLI_CONFIG_FILE: this.cliConfigFile,
      TF_STUB_AWS_WORLD_URL: this.aws.providerApiEndpoint,
      CHECKPOINT_DISABLE: '1',
    };
  }

  /**
   * The README's first deploy, for this configuration: the state account's bootstrap with
   * `scripts/bootstrap-state.sh`, then every other account's bootstrap stack. Returns the commands
   * as run; throws with the failing command's output.
   */
  /** The administrator's checkout and environment, once the first deploy set them up. */
  private administratorAt?: { readonly laptop: string; readonly env: NodeJS.ProcessEnv };

  /** Runs a command as the administrator, in the checkout of the first deploy (e.g. the bootstrap again). */
  async administrator(command: string, env: NodeJS.ProcessEnv = {}): Promise<AdminCommand> {
    if (this.administratorAt === undefined) throw new Error('run firstDeploy() first: the administrator has no checkout yet');
    return shell(command, this.administratorAt.laptop, { ...this.administratorAt.env, ...env }, 300);
  }

  async firstDeploy(): Promise<AdminCommand[]> {
    const laptop = path.join(this.work, 'administrator');
    const home = path.join(this.work, 'administrator-home');
    mkdirSync(path.join(home, '.aws'), { recursive: true });
    const credentials = Object.entries(this.admins).map(
      ([name, keys]) =>
        `[${this.adminProfile({ name })}]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`,
    );
    writeFileSync(path.join(home, '.aws', 'credentials'), credentials.join('\n'));
    execFileSync('git', ['clone', '--quiet', '--branch', MAIN_BRANCH, this.snapshot.repository, laptop], {
      env: { PATH: '/usr/bin:/bin', HOME: home },
    });
    // The administrator installed the project's dependencies already.
    symlinkSync(path.join(this.options.root, 'node_modules'), path.join(laptop, 'node_modules'));
    const env: NodeJS.ProcessEnv = {
      PATH: `${this.nodeBinDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: home,
      LANG: 'C.UTF-8',
      TMPDIR: tmpdir(),
      AWS_SHARED_CREDENTIALS_FILE: path.join(home, '.aws', 'credentials'),
      AWS_CONFIG_FILE: path.join(home, '.aws', 'config'),
      BITBUCKET_OIDC_CONFIG: this.options.configFile,
      TF_IN_AUTOMATION: '1',
      TF_CLI_ARGS_apply: '-auto-approve', // the administrator confirms
      ...this.standIns(),
    };
    this.administratorAt = { laptop, env };
    const ran: AdminCommand[] = [];
    const { state } = this.config;
    if (state.account === undefined) {
      // A bucket managed elsewhere: created by hand before the bootstrap stacks (docs/pipeline.md, "A bucket managed elsewhere").
      const owner = this.config.accounts[0];
      await this.aws.s3.createBucket({
        name: state.bucket,
        accountId: owner.accountId,
        region: state.region,
        encryption: { algorithm: 'AES256' },
        versioning: true,
        publicAccessBlocked: true,
      });
      this.out(
        `administrator: creates the state bucket ${state.bucket} in account ${owner.name} (${owner.accountId}) by hand: no account of the configuration manages it`,
      );
    }
    for (const command of ['npm run --silent synth', ...this.firstDeployCommands()]) {
      const result = await shell(command, laptop, env, 300);
      ran.push(result);
      this.out(
        `administrator: ${command} -> ${result.code === 0 ? 'ok' : `FAILED (exit ${result.code})`} in ${result.seconds.toFixed(1)} s`,
      );
      if (result.code !== 0) throw new Error(`the first deploy failed at \`${command}\` (exit ${result.code}):\n${tail(result.output)}`);
      if (ran.length === 1) trustStubInLocks(laptop, this.stubHash);
    }
    return ran;
  }

  /**
   * The first-deploy commands of the README for this configuration. Each S3 backend's `init` also gets
   * `-backend-config=use_path_style=true`: the local S3 is reached by path, not by a bucket host name.
   */
  firstDeployCommands(): string[] {
    const pathStyle = '-backend-config=use_path_style=true';
    const { state } = this.config;
    const stateAccount = state.account === undefined ? undefined : this.account(state.account.name);
    const backendProfile = this.adminProfile(stateAccount ?? this.config.accounts[0]);
    const commands =
      stateAccount === undefined ? [] : [`AWS_PROFILE=${backendProfile} scripts/bootstrap-state.sh ${stateAccount.name} ${pathStyle}`];
    for (const account of this.config.accounts.filter((a) => a !== stateAccount)) {
      const dir = `cdktf.out/stacks/${stackName(account, 'bootstrap')}`;
      commands.push(`terraform -chdir=${dir} init -backend-config=profile=${backendProfile} ${pathStyle}`);
      commands.push(`AWS_PROFILE=${this.adminProfile(account)} terraform -chdir=${dir} apply`);
    }
    return commands;
  }

  /** The account of the configuration with this name. */
  account(name: string): ResolvedAccount {
    const account = this.config.accounts.find((a) => a.name === name);
    if (account === undefined) throw new Error(`the configuration has no account "${name}"`);
    return account;
  }

  /** The runner's options for one pipeline run. */
  private runnerOptions(buildNumber: number, overrides: StepOverrides = {}): RunnerOptions {
    const pipeline = this.config.pipeline!;
    const environments = Object.fromEntries(
      this.config.accounts.flatMap((a) => (a.deploymentEnvironment === undefined ? [] : [[a.name, a.deploymentEnvironment.uuid]])),
    );
    const [workspace, slug] = (pipeline.repository.name ?? `${this.config.workspace}/infra`).split('/');
    const caches = path.join(this.work, 'caches');
    mkdirSync(caches, { recursive: true });
    return {
      repository: this.snapshot.repository,
      commit: this.snapshot.commit,
      workRoot: path.join(this.work, 'pipelines'),
      nodeBinDir: this.nodeBinDir,
      variables: {
        ...machineNetwork(),
        // The repository variables the README lists, as a user sets them for this configuration.
        BITBUCKET_OIDC_CONFIG: this.options.configFile,
        PLAN_ROLE_NAME: pipeline.planRoleName,
        DEPLOY_ROLE_NAME: pipeline.deployRoleName,
        ...this.standIns(),
        // The pipeline's S3 backend inits only (bootstrap-state.sh runs none here).
        TF_CLI_ARGS_init: '-backend-config=use_path_style=true',
        TERRAFORM_RELEASES_URL: this.releases.url,
        TERRAFORM_SHA256: this.releases.sha256,
        CURL_CA_BUNDLE: this.releases.caBundle,
        ...overrides.variables,
      },
      bitbucketRepository: { uuid: pipeline.repository.uuid, workspace, slug },
      deploymentEnvironments: environments,
      cacheDefinitions: this.pipelineFile.cacheDefinitions,
      caches,
      seedCaches: { npm: path.join(homedir(), '.npm') },
      stepEnvironment: async (step, bitbucket) => this.stepToken(step, bitbucket, overrides),
      rewriteLine: (line) => this.rewriteLine(line),
      onOutput: (line) => this.out(`${line}; ${this.rolesAssumedSinceLastStep()}`),
      onArtifacts: (artifacts) => {
        const locks = trustStubInLocks(artifacts.directory, this.stubHash);
        if (locks > 0)
          this.out(`the stub provider's checksum added to the lock files of ${locks} synthesized stacks (the registry's stand-in)`);
      },
      stepTimeoutSeconds: this.options.stepTimeoutSeconds ?? 900,
      buildNumber,
    };
  }

  /** BITBUCKET_STEP_OIDC_TOKEN for a step with `oidc: true`, as Bitbucket issues it (or a scenario's). */
  private async stepToken(
    step: StepDefinition,
    bitbucket: Readonly<Record<string, string>>,
    overrides: StepOverrides,
  ): Promise<Record<string, string>> {
    if (!step.oidc) return {};
    if (overrides.token !== undefined) return { BITBUCKET_STEP_OIDC_TOKEN: overrides.token(bitbucket) };
    return { BITBUCKET_STEP_OIDC_TOKEN: this.tokenFor(bitbucket) };
  }

  /**
   * The token Bitbucket issues to a step with these BITBUCKET_* variables; `environmentUuid` replaces
   * its deployment environment (`null`: a normal step's token, without one).
   */
  tokenFor(
    bitbucket: Readonly<Record<string, string>>,
    environmentUuid: string | null = bitbucket.BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID ?? null,
  ): string {
    return this.issuer.tokenFor({
      repositoryUuid: bitbucket.BITBUCKET_REPO_UUID,
      stepUuid: bitbucket.BITBUCKET_STEP_UUID,
      pipelineUuid: bitbucket.BITBUCKET_PIPELINE_UUID,
      branchName: bitbucket.BITBUCKET_BRANCH,
      ...(environmentUuid === null ? {} : { environmentUuid }),
    });
  }

  /** In quick mode, step 1 links node_modules and runs only the user-config suite (see TestStepMode). */
  private rewriteLine(line: string): { line: string; note?: string } {
    if (this.options.testStep === 'exact') return { line };
    if (line.trim() === 'npm ci') {
      return {
        line: `ln -s ${shellQuote(path.join(this.options.root, 'node_modules'))} node_modules`,
        note: 'quick mode: node_modules linked from the checkout instead of npm ci',
      };
    }
    if (line.trim() === 'npm test') {
      const cache = shellQuote(path.join(this.work, 'jest-cache'));
      return {
        line: `npx jest --ci --cacheDirectory ${cache} __tests__/user-config.test.ts`,
        note: 'quick mode: only the suite that checks your configuration; npm run rehearse runs the whole npm test',
      };
    }
    return { line };
  }

  /** Runs the pipeline a trigger starts, up to (not including) the first step `until` names. */
  async pipeline(
    trigger: PipelineTrigger,
    options: { until?: (step: StepDefinition) => boolean; variables?: Readonly<Record<string, string>> } = {},
  ): Promise<PipelineRun> {
    const { name, items } = pipelineFor(this.pipelineFile, trigger);
    const stop =
      options.until === undefined ? -1 : items.findIndex((item) => (item.kind === 'step' ? [item.step] : item.steps).some(options.until!));
    const buildNumber = ++this.buildNumber;
    this.out(`pipeline #${buildNumber}: ${name}`);
    const overrides = options.variables === undefined ? {} : { variables: options.variables };
    const results = await runPipeline(stop < 0 ? items : items.slice(0, stop), trigger, this.runnerOptions(buildNumber, overrides));
    return { name, trigger, results, buildNumber };
  }

  /**
   * Runs one step of a pipeline run again, or a later step of it (a manual step started by hand), with
   * the artifacts of the run's passed steps before it.
   */
  async step(run: PipelineRun, step: StepDefinition, overrides: StepOverrides = {}): Promise<StepResult> {
    const before: ArtifactSet[] = run.results
      .filter((r) => r.passed && r.step.where !== step.where && r.artifacts !== undefined)
      .map((r) => r.artifacts!);
    const definition = overrides.script === undefined ? step : { ...step, script: overrides.script };
    const result = await runStep(definition, run.trigger, before, this.runnerOptions(run.buildNumber, overrides));
    return result;
  }

  /** A step of the trigger's pipeline, by name. */
  stepNamed(trigger: PipelineTrigger, name: string): StepDefinition {
    const { items } = pipelineFor(this.pipelineFile, trigger);
    const step = items.flatMap((item) => (item.kind === 'step' ? [item.step] : item.steps)).find((s) => s.name === name);
    if (step === undefined) throw new Error(`the pipeline has no step named "${name}"`);
    return step;
  }

  /** The deployment step of an account (its environment is named like the account). */
  deploymentStep(account: string): StepDefinition {
    const { items } = pipelineFor(this.pipelineFile, PUSH_TO_MAIN);
    const step = items.flatMap((item) => (item.kind === 'step' ? [item.step] : item.steps)).find((s) => s.deployment === account);
    if (step === undefined) throw new Error(`the main pipeline has no deployment step for "${account}"`);
    return step;
  }

  /** The state of a stack, as the bucket holds it (undefined when absent). */
  async state(
    account: string,
    kind: 'bootstrap' | 'workload',
  ): Promise<
    { serial: number; resources: { type: string; name: string; instances: { attributes: Record<string, unknown> }[] }[] } | undefined
  > {
    const key = stateKey(
      this.config.state,
      this.config.accounts.find((a) => a.name === account)!,
      kind,
    );
    const text = await this.aws.s3.emulator.read(this.config.state.bucket, key);
    return text === undefined ? undefined : JSON.parse(text);
  }
}

/**
 * Reads and validates the configuration under rehearsal (throws its problems, as the synth would):
 * in the checkout, or given in `files` (written under `dir`, at its path in the repository).
 */
function readConfigUnderRehearsal(options: RehearsalOptions, dir: string): ResolvedConfig {
  const given = options.files?.[options.configFile];
  if (given === undefined) return readConfigFile(path.resolve(options.root, options.configFile)).config;
  const file = path.join(dir, options.configFile);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, given);
  // The lock file given beside it, read as the synth will read it.
  const lock = options.files?.[lockPathFor(options.configFile)];
  if (lock !== undefined) writeFileSync(lockPathFor(file), lock);
  return readConfigFile(file).config;
}

/** The resource and data-source types the configuration's stacks use (an in-process synth into `dir`). */
function stackTypes(config: ResolvedConfig, dir: string): { resources: string[]; dataSources: string[] } {
  buildApp(config, { outdir: dir }).app.synth();
  const resources = new Set<string>();
  const dataSources = new Set<string>();
  for (const stack of config.accounts.flatMap((a) => [stackName(a, 'bootstrap'), stackName(a, 'workload')])) {
    const json = JSON.parse(readFileSync(path.join(dir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as { resource?: object; data?: object };
    Object.keys(json.resource ?? {}).forEach((type) => resources.add(type));
    Object.keys(json.data ?? {}).forEach((type) => dataSources.add(type));
  }
  rmSync(dir, { recursive: true, force: true });
  return { resources: [...resources], dataSources: [...dataSources] };
}

/** The `h1:` checksum of the stub provider, from the lock file Terraform wrote for it. */
function stubChecksum(lock: string): string {
  const hash = /"(h1:[^"]+)"/.exec(lock)?.[1];
  if (hash === undefined) throw new Error(`the stub provider's lock file has no h1: checksum:\n${lock}`);
  return hash;
}

/**
 * Adds the stub's checksum to the lock file of every synthesized stack under `dir` (`cdktf.out/` of the
 * administrator's checkout, or of the test step's artifacts), next to hashicorp/aws's: the stub stands
 * in for the registry's package, and `terraform init -lockfile=readonly` then verifies it by that
 * checksum. The committed terraform/.terraform.lock.hcl stays as it is, and so do the project's tests of it.
 */
export function trustStubInLocks(dir: string, hash: string): number {
  const stacks = path.join(dir, 'cdktf.out', 'stacks');
  if (!existsSync(stacks)) return 0;
  let changed = 0;
  for (const stack of readdirSync(stacks)) {
    const lock = path.join(stacks, stack, '.terraform.lock.hcl');
    if (!existsSync(lock)) continue;
    const text = readFileSync(lock, 'utf8');
    const trusted = text.replace(/(provider "registry\.terraform\.io\/hashicorp\/aws" \{[\s\S]*?hashes = \[\n)/, `$1    "${hash}",\n`);
    if (trusted === text) throw new Error(`${lock} has no hashes of registry.terraform.io/hashicorp/aws`);
    writeFileSync(lock, trusted);
    changed += 1;
  }
  return changed;
}

/** Runs a command line in bash, bounded in time; never rejects. */
function shell(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutSeconds: number): Promise<AdminCommand> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutSeconds * 1000,
      killSignal: 'SIGKILL',
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('close', (code) =>
      resolve({ command, code, output: Buffer.concat(chunks).toString('utf8'), seconds: (Date.now() - started) / 1000 }),
    );
  });
}

/**
 * The pipeline file with its deployment steps (from the first `<<: *deploy` step to the end of the
 * file, where the committed file keeps them) replaced by those `npm run pipeline-steps` prints for the
 * configuration, as a user pastes them.
 */
export function withDeploymentStepsFor(text: string, config: ResolvedConfig, configFile: string): string {
  const first = /^ {6}- step:\n {10}<<: \*deploy$/m.exec(text);
  if (first === null) throw new Error(`${PIPELINE_FILE} has no deployment step built from the *deploy anchor to replace`);
  return `${text.slice(0, first.index)}${deploymentStepsSnippet(config, configFile)}\n`;
}

/** The last lines of a log. */
export function tail(log: string, lines = 40): string {
  return log.trim().split('\n').slice(-lines).join('\n');
}
