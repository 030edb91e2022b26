/**
 * Terraform acceptance: every stack the project synthesizes goes through the real `terraform`
 * (init, validate, plan, apply, show), offline, against a stub `hashicorp/aws` provider whose schemas
 * come from the provider bindings (`support/terraform/`). Each configuration is synthesized as
 * Terraform JSON and as the HCL of `cdktf synth --hcl`; both must plan the same values.
 *
 * Without `terraform` on the PATH the suite is skipped with a warning, except in CI, where it fails.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { plannedValues, stateResources } from './support/terraform/acceptance';
import { acceptanceConfigs, AcceptanceConfig, POLICY_VARIABLES_FIXTURE, StackFormat, SynthResult } from './support/terraform/stacks';
import { StubServer } from './support/terraform/stub-server';
import { FORMATS, runSuite, SuiteRun } from './support/terraform/suite';
import { describeWithTerraform } from './support/terraform/terraform-cli';

/** Terraform processes at a time: the machines running the suite have two cores. */
const PARALLELISM = 2;
const MIN_STACKS = 20;

const CONFIGS = acceptanceConfigs();

const outcomesOf = (run: SuiteRun, config: AcceptanceConfig, format?: StackFormat) =>
  run.outcomes.filter((o) => o.stack.config === config && (format === undefined || o.stack.format === format));

/** Fails with the synth's own message when a configuration did not synthesize. */
function synthesized(run: SuiteRun, config: AcceptanceConfig): Record<StackFormat, SynthResult> {
  const results = run.synth.get(config.slug);
  if (results === undefined) throw new Error(`${config.name} was not synthesized`);
  for (const format of FORMATS) {
    if (results[format].error !== undefined) throw new Error(`${config.name} does not synthesize as ${format}:\n${results[format].error}`);
  }
  return results;
}

describeWithTerraform(
  (version) => `Terraform ${version} acceptance against the stub hashicorp/aws provider`,
  () => {
    const root = mkdtempSync(path.join(tmpdir(), 'bitbucket-oidc-terraform-'));
    const servers: StubServer[] = [];
    let run: SuiteRun | undefined;
    let setupError: unknown;

    /** The run, or the reason there is none (so every test names the setup failure). */
    const ran = (): SuiteRun => {
      if (run === undefined) throw new Error(`the Terraform run did not complete: ${String((setupError as Error)?.stack ?? setupError)}`);
      return run;
    };

    beforeAll(async () => {
      try {
        run = await runSuite(CONFIGS, root, PARALLELISM, servers);
        console.log(run.summary);
      } catch (error) {
        setupError = error;
      }
    }, 180_000);

    afterAll(async () => {
      await Promise.all(servers.map((server) => server.stop()));
      rmSync(root, { recursive: true, force: true });
    });

    it('starts the stub as Terraform starts a provider (init -plugin-dir, AutoMTLS), after validating the untouched stack', () => {
      const launched = ran().outcomes.filter((o) => o.launch === 'plugin-dir');
      expect(launched.map((o) => o.stack.format).sort()).toEqual([...FORMATS].sort());
      for (const outcome of launched) {
        expect(outcome.failure).toBeUndefined();
        expect(outcome.runs.map((r) => r.args[0])).toEqual(['init', 'validate', 'init', 'validate', 'plan', 'show', 'apply', 'show']);
        expect(outcome.runs[0].args).toContain('-backend=false'); // the untouched stack, S3 backend block and all
        expect(outcome.lockFile).toMatch(
          new RegExp(`provider "registry.terraform.io/hashicorp/aws" \\{\\s+version\\s+= "${ran().provider.version}"`),
        );
      }
    });

    it('runs every init with -lockfile=readonly against a lock file generated for the stub, which stays unchanged', () => {
      const r = ran();
      expect(r.stubLock).toMatch(
        new RegExp(
          `provider "registry.terraform.io/hashicorp/aws" \\{\\s+version\\s+= "${r.provider.version}"\\s+constraints = "${r.provider.version}"`,
        ),
      );
      for (const outcome of r.outcomes) {
        const inits = outcome.runs.filter((run) => run.args[0] === 'init');
        expect(inits.length).toBeGreaterThan(0);
        for (const init of inits) expect(init.args).toContain('-lockfile=readonly');
        expect(outcome.lockFile).toBe(r.stubLock);
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
      const json = JSON.parse(readFileSync(path.join(stack.dir, stack.file), 'utf8')) as {
        terraform: { required_providers: { aws: { version: string } } };
      };
      expect(r.provider.version).toBe(json.terraform.required_providers.aws.version);
    });

    // Terraform's own wording, which differs by syntax: proof that the stub's schema has teeth.
    it.each([
      ['hcl', 'An argument named "nmae" is not expected here'],
      ['json', 'No argument or block type is named "nmae"'],
    ] as const)("refuses a misspelt role argument in the %s stack with Terraform's message: %s", (format, message) => {
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
        synthesized(r, config);
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
        const providerArns = new Set(
          states.flatMap((state) => [
            ...stateResources(state, 'aws_iam_openid_connect_provider').map((p) => p.values.arn as string),
            ...Object.entries(state.values?.outputs ?? {})
              .filter(([name]) => name === 'oidc_provider_arn')
              .map(([, o]) => o.value as string),
          ]),
        );
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
      const fixture = JSON.parse(readFileSync(POLICY_VARIABLES_FIXTURE, 'utf8')) as {
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

      it.each(FORMATS)(
        'holds the policy exactly as written, ${aws:username} and ${aws:PrincipalTag/team} included, in the %s state',
        (format) => {
          const { resources } = appliedStates().find((s) => s.format === format)!;
          const applied = resources.find((p) => p.type === 'aws_iam_role_policy' && p.values.name === policyName);
          expect(applied).toBeDefined();
          expect(applied?.values.policy).toContain('arn:aws:s3:::acme-home/${aws:username}/*');
          expect(applied?.values.policy).toContain('"${aws:PrincipalTag/team}"');
          expect(JSON.parse(applied?.values.policy as string)).toEqual(policy);
        },
      );

      it.each(FORMATS)('holds the role description with ${...} and %%{...} literal in the %s state', (format) => {
        const { resources } = appliedStates().find((s) => s.format === format)!;
        const applied = resources.find((p) => p.type === 'aws_iam_role' && p.values.name === role.name);
        expect(applied?.values.description).toBe(role.description);
        expect(applied?.values.description).toContain('${not-a-reference}');
        expect(applied?.values.description).toContain('%{ also literal }');
      });
    });
  },
);
