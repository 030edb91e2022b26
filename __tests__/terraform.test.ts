/**
 * Terraform acceptance: every stack the project synthesizes goes through the real `terraform`
 * (init, validate, plan, apply, show), offline, against a stub `hashicorp/aws` provider whose schemas
 * come from the provider bindings (`support/terraform/`). Each configuration is synthesized as
 * Terraform JSON and as the HCL of `cdktf synth --hcl`; both must plan the same values.
 *
 * Without `terraform` on the PATH the suite is skipped with a warning, except in CI, where it fails.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import {
  Launch,
  plannedValues,
  runStack,
  StackOutcome,
  stateResources,
  StubAccess,
  validateEdited,
} from './support/terraform/acceptance';
import { installStubProvider, StubProvider } from './support/terraform/plugin-dir';
import {
  acceptanceConfigs,
  AcceptanceConfig,
  POLICY_VARIABLES_FIXTURE,
  StackFormat,
  synthesizeConfig,
  SynthesizedStack,
  SynthResult,
  typesUsed,
} from './support/terraform/stacks';
import { startStubServer, StubServer } from './support/terraform/stub-server';
import { findTerraform, inPool, terraformEnv, TerraformRun } from './support/terraform/terraform-cli';

/** Terraform processes at a time: the machines running the suite have two cores. */
const PARALLELISM = 2;
const MIN_STACKS = 20;
const FORMATS: readonly StackFormat[] = ['json', 'hcl'];

const CONFIGS = acceptanceConfigs();
const TERRAFORM = findTerraform();

/** What the run produced, filled in by `beforeAll`. */
interface Run {
  readonly synth: Map<string, Record<StackFormat, SynthResult>>;
  readonly outcomes: StackOutcome[];
  readonly provider: StubProvider;
  /** `validate` of the example's first stack with a role argument misspelt, by format. */
  readonly misspelt: Partial<Record<StackFormat, TerraformRun>>;
  readonly seconds: number;
}

const outcomesOf = (run: Run, config: AcceptanceConfig, format?: StackFormat) =>
  run.outcomes.filter((o) => o.stack.config === config && (format === undefined || o.stack.format === format));

/** Fails with the synth's own message when a configuration did not synthesize. */
function synthesized(run: Run, config: AcceptanceConfig): Record<StackFormat, SynthResult> {
  const results = run.synth.get(config.slug);
  if (results === undefined) throw new Error(`${config.name} was not synthesized`);
  for (const format of FORMATS) {
    if (results[format].error !== undefined) throw new Error(`${config.name} does not synthesize as ${format}:\n${results[format].error}`);
  }
  return results;
}

if ('missing' in TERRAFORM && process.env.CI === 'true') {
  describe('Terraform acceptance', () => {
    it('finds terraform on the PATH (required in CI)', () => {
      throw new Error(TERRAFORM.missing);
    });
  });
} else if ('missing' in TERRAFORM) {
  console.warn(`Skipping the Terraform acceptance suite: ${TERRAFORM.missing}`);
  describe.skip('Terraform acceptance (skipped: no terraform on the PATH)', () => {
    it('runs every stack through terraform', () => undefined);
  });
} else {
  describe(`Terraform ${TERRAFORM.version} acceptance against the stub hashicorp/aws provider`, () => {
    const root = mkdtempSync(path.join(tmpdir(), 'bitbucket-oidc-terraform-'));
    const servers: StubServer[] = [];
    let run: Run | undefined;
    let setupError: unknown;

    /** The run, or the reason there is none (so every test names the setup failure). */
    const ran = (): Run => {
      if (run === undefined) throw new Error(`the Terraform run did not complete: ${String((setupError as Error)?.stack ?? setupError)}`);
      return run;
    };

    beforeAll(async () => {
      try {
        const started = process.hrtime.bigint();
        const synth = new Map<string, Record<StackFormat, SynthResult>>();
        for (const config of CONFIGS) {
          const json = await synthesizeConfig(config, 'json', path.join(root, 'synth', config.slug, 'json'));
          const hcl = await synthesizeConfig(config, 'hcl', path.join(root, 'synth', config.slug, 'hcl'));
          synth.set(config.slug, { json, hcl });
        }
        const synthSeconds = Number(process.hrtime.bigint() - started) / 1e9;
        const stacks = [...synth.values()].flatMap((r) => [...r.json.stacks, ...r.hcl.stacks]);
        const provider = installStubProvider(root, typesUsed(stacks));
        const env = terraformEnv(root);
        for (let lane = 0; lane < PARALLELISM; lane++) servers.push(await startStubServer(provider.bundle, provider.address));
        const access = (launch: Launch, lane: number): StubAccess => ({
          pluginDir: provider.pluginDir,
          launch,
          env: launch === 'reattach' ? { ...env, TF_REATTACH_PROVIDERS: servers[lane].reattach } : env,
          untouchedFirst: launch === 'plugin-dir',
        });
        const workDir = (stack: SynthesizedStack) => path.join(root, 'tf', `${stack.config.slug}-${stack.name}-${stack.format}`);

        // The launch path of a real provider (init -plugin-dir, go-plugin handshake, AutoMTLS, one
        // process per command) and the untouched stack's validation (S3 backend block included) on the
        // example's smallest stack in each format; the other stacks attach to a running stub, which
        // takes a fifth of the time.
        const example = synth.get('example');
        const smallest = (format: StackFormat) => [...(example?.[format].stacks ?? [])].sort((a, b) => stackSize(a) - stackSize(b))[0];
        const launched = new Set(FORMATS.map(smallest).filter((s) => s !== undefined));
        const withRole = (format: StackFormat) => example?.[format].stacks.find((s) => readFileSync(path.join(s.dir, s.file), 'utf8').includes('aws_iam_role'));
        type Job = { kind: 'stack'; stack: SynthesizedStack; launch: Launch } | { kind: 'misspelt'; stack: SynthesizedStack };
        const jobs: Job[] = [
          ...stacks.filter((s) => launched.has(s)).map((stack) => ({ kind: 'stack', stack, launch: 'plugin-dir' }) as const),
          ...FORMATS.map(withRole).filter((s) => s !== undefined).map((stack) => ({ kind: 'misspelt', stack }) as const),
          ...stacks.filter((s) => !launched.has(s)).map((stack) => ({ kind: 'stack', stack, launch: 'reattach' }) as const),
        ];
        const misspelt: Partial<Record<StackFormat, TerraformRun>> = {};
        const outcomes: StackOutcome[] = [];
        await inPool(jobs, PARALLELISM, async (job, lane) => {
          if (job.kind === 'misspelt') {
            const edit = job.stack.format === 'json' ? misspellInJson : misspellInHcl;
            misspelt[job.stack.format] = await validateEdited(job.stack, path.join(root, 'tf', `misspelt-${job.stack.format}`), edit, provider.pluginDir, access('reattach', lane).env);
          } else {
            outcomes.push(await runStack(job.stack, workDir(job.stack), access(job.launch, lane)));
          }
        });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        run = { synth, outcomes, provider, misspelt, seconds };
        const count = (format: StackFormat) => outcomes.filter((o) => o.stack.format === format).length;
        const busy = new Map<string, number>();
        for (const { args, seconds: s } of outcomes.flatMap((o) => o.runs)) busy.set(args[0], (busy.get(args[0]) ?? 0) + s);
        console.log(
          `Terraform acceptance: ${outcomes.length} stacks (${count('json')} JSON, ${count('hcl')} HCL) of ${CONFIGS.length} configurations ` +
            `through init, validate, plan and apply (${outcomes.filter((o) => o.failure === undefined).length} passed) in ${seconds.toFixed(1)} s, ` +
            `${PARALLELISM} at a time (synth ${synthSeconds.toFixed(1)} s; terraform ${[...busy].map(([c, t]) => `${c} ${t.toFixed(1)} s`).join(', ')})`,
        );
      } catch (error) {
        setupError = error;
      }
    }, 180_000);

    afterAll(async () => {
      await Promise.all(servers.map((server) => server.stop()));
      rmSync(root, { recursive: true, force: true });
    });

    it('starts the stub as Terraform starts a provider (init -plugin-dir, AutoMTLS) and validates the untouched stack, S3 backend included', () => {
      const launched = ran().outcomes.filter((o) => o.launch === 'plugin-dir');
      expect(launched.map((o) => o.stack.format).sort()).toEqual([...FORMATS].sort());
      for (const outcome of launched) {
        expect(outcome.failure).toBeUndefined();
        expect(outcome.runs.slice(0, 2).map((r) => r.args.slice(0, 1).concat(r.args.filter((a) => a === '-backend=false')))).toEqual([['init', '-backend=false'], ['validate']]);
        expect(outcome.lockFile).toMatch(new RegExp(`provider "registry.terraform.io/hashicorp/aws" \\{\\s+version\\s+= "${ran().provider.version}"`));
      }
    });

    it(`runs at least ${MIN_STACKS} stacks, JSON and HCL, through Terraform`, () => {
      const { outcomes } = ran();
      expect(outcomes.length).toBeGreaterThanOrEqual(MIN_STACKS);
      expect(new Set(outcomes.map((o) => o.stack.format))).toEqual(new Set(FORMATS));
    });

    it('derives the stub schemas from the provider bindings without guessing any attribute type', () => {
      expect(ran().provider.schemas.warnings).toEqual([]);
    });

    it('serves the hashicorp/aws version that the stacks pin', () => {
      const r = ran();
      const [stack] = [...r.synth.values()].flatMap((results) => results.json.stacks);
      const json = JSON.parse(readFileSync(path.join(stack.dir, stack.file), 'utf8')) as { terraform: { required_providers: { aws: { version: string } } } };
      expect(r.provider.version).toBe(json.terraform.required_providers.aws.version);
    });

    // Terraform's own wording, which differs by syntax: proof that the stub's schema has teeth.
    it.each([
      ['hcl', 'An argument named "nmae" is not expected here'],
      ['json', 'No argument or block type is named "nmae"'],
    ] as const)('refuses a misspelt role argument in the %s stack with Terraform\'s message: %s', (format, message) => {
      const run = ran().misspelt[format];
      expect(run).toBeDefined();
      expect(run?.code).toBe(1);
      expect(run?.stderr).toContain(message);
    });

    describe.each(CONFIGS.map((c) => [c.name, c] as const))('%s', (_name, config) => {
      it('synthesizes as Terraform JSON and as HCL', () => {
        const results = synthesized(ran(), config);
        expect(results.json.stacks.length).toBeGreaterThan(0);
        expect(results.hcl.stacks.map((s) => s.name)).toEqual(results.json.stacks.map((s) => s.name));
      });

      it('passes terraform init, validate, plan and apply, as JSON and as HCL', () => {
        const r = ran();
        synthesized(r, config);
        const failures = outcomesOf(r, config).filter((o) => o.failure !== undefined);
        if (failures.length > 0) {
          throw new Error(failures.map((o) => `${o.stack.name} (${o.stack.format}): ${o.failure}`).join('\n\n'));
        }
        expect(outcomesOf(r, config).length).toBe(2 * synthesized(r, config).json.stacks.length);
      });

      it('plans the same values from the JSON and from the HCL', () => {
        const r = ran();
        for (const json of outcomesOf(r, config, 'json')) {
          const hcl = outcomesOf(r, config, 'hcl').find((o) => o.stack.name === json.stack.name);
          expect(json.plan).toBeDefined();
          expect(hcl?.plan).toBeDefined();
          expect(plannedValues(hcl?.plan ?? {})).toEqual(plannedValues(json.plan ?? {}));
        }
        expect(outcomesOf(r, config, 'json').length).toBeGreaterThan(0);
      });

      it.each(FORMATS)('applies roles that trust the OIDC provider its stacks applied, and outputs their applied ARNs (%s)', (format) => {
        const r = ran();
        synthesized(r, config);
        const outcomes = outcomesOf(r, config, format);
        expect(outcomes.length).toBeGreaterThan(0);
        const states = outcomes.map((o) => {
          if (o.state === undefined) throw new Error(`${o.stack.name} (${format}) was not applied`);
          return o.state;
        });
        const providerArns = new Set(states.flatMap((state) => [
          ...stateResources(state, 'aws_iam_openid_connect_provider').map((p) => p.values.arn as string),
          ...Object.entries(state.values?.outputs ?? {}).filter(([name]) => name === 'oidc_provider_arn').map(([, o]) => o.value as string),
        ]));
        expect(providerArns.size).toBeGreaterThan(0);
        for (const state of states) {
          const roles = stateResources(state, 'aws_iam_role');
          for (const role of roles) {
            const trust = JSON.parse(role.values.assume_role_policy as string) as { Statement: { Principal: { Federated: string } }[] };
            for (const statement of trust.Statement) expect(providerArns).toContain(statement.Principal.Federated);
          }
          const arnOutputs = Object.entries(state.values?.outputs ?? {}).filter(([name]) => /role_arns$/.test(name));
          const appliedArns = Object.fromEntries(roles.map((role) => [role.values.name, role.values.arn]));
          const outputArns = Object.assign({}, ...arnOutputs.map(([, o]) => o.value as Record<string, string>));
          expect(outputArns).toEqual(appliedArns);
        }
      });
    });

    describe('the policy-variables fixture, applied', () => {
      const fixture = require(POLICY_VARIABLES_FIXTURE) as {
        accounts: { roles: { name: string; description: string; inlinePolicies: Record<string, unknown> }[] }[];
      };
      const role = fixture.accounts[0].roles[0];
      const [policyName, policy] = Object.entries(role.inlinePolicies)[0];
      const appliedStates = () => {
        const config = CONFIGS.find((c) => c.file === POLICY_VARIABLES_FIXTURE) as AcceptanceConfig;
        const r = ran();
        synthesized(r, config);
        return FORMATS.map((format) => {
          const outcomes = outcomesOf(r, config, format);
          const unapplied = outcomes.filter((o) => o.state === undefined);
          if (outcomes.length === 0 || unapplied.length > 0) throw new Error(`the fixture's ${format} stacks were not all applied`);
          return { format, resources: outcomes.flatMap((o) => stateResources(o.state)) };
        });
      };

      it.each(FORMATS)('holds the policy exactly as written, ${aws:username} and ${aws:PrincipalTag/team} included, in the %s state', (format) => {
        const { resources } = appliedStates().find((s) => s.format === format)!;
        const applied = resources.find((p) => p.type === 'aws_iam_role_policy' && p.values.name === policyName);
        expect(applied).toBeDefined();
        expect(applied?.values.policy).toContain('arn:aws:s3:::acme-home/${aws:username}/*');
        expect(applied?.values.policy).toContain('"${aws:PrincipalTag/team}"');
        expect(JSON.parse(applied?.values.policy as string)).toEqual(policy);
      });

      it.each(FORMATS)('holds the role description with ${...} and %%{...} literal in the %s state', (format) => {
        const { resources } = appliedStates().find((s) => s.format === format)!;
        const applied = resources.find((p) => p.type === 'aws_iam_role' && p.values.name === role.name);
        expect(applied?.values.description).toBe(role.description);
        expect(applied?.values.description).toContain('${not-a-reference}');
        expect(applied?.values.description).toContain('%{ also literal }');
      });
    });
  });
}

/** The size of a stack's Terraform file, in bytes. */
function stackSize(stack: SynthesizedStack): number {
  return statSync(path.join(stack.dir, stack.file)).size;
}

/** Adds `nmae` (a misspelt `name`) to the first role of a JSON stack. */
function misspellInJson(text: string): string {
  const json = JSON.parse(text) as { resource: { aws_iam_role: Record<string, Record<string, unknown>> } };
  const [role] = Object.values(json.resource.aws_iam_role);
  role.nmae = role.name;
  return JSON.stringify(json, null, 2);
}

/** Adds `nmae` (a misspelt `name`) to the first role of an HCL stack. */
function misspellInHcl(text: string): string {
  return text.replace(/^(resource "aws_iam_role" "[^"]+" \{)$/m, '$1\n  nmae = "misspelt"');
}
