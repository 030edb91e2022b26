/**
 * The pipeline rehearsal (`support/rehearsal/`): `bitbucket-pipelines.yml` run step by step as
 * Bitbucket runs it, for the bundled example, against a local STS, S3 and IAM that decide with the
 * independent engine, after the administrator's first deploy. Step 1 runs in quick mode here (its
 * `npm ci` links node_modules and its `npm test` runs only the user-config suite, so the suite does not
 * run itself); `npm run rehearse` runs it exactly as written, and `.ci/run` runs that.
 *
 * The scenarios share one rehearsal, in order: first deploy, the pull-request pipeline, the main
 * pipeline's test and plan steps, then its deployment steps started by hand (refused ones first), then
 * the custom pipelines.
 */
import { existsSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { stackName, stateKey } from '../src/config/types';
import { startBitbucketApiDouble } from './support/bitbucket-api-double';
import { exampleWorld } from './support/example-world';
import {
  AdminCommand,
  CHECK_NAMES,
  DRIFT_CHECK,
  PipelineRun,
  PULL_REQUEST,
  PUSH_TO_MAIN,
  Rehearsal,
  tail,
} from './support/rehearsal/rehearse';
import { StepResult } from './support/rehearsal/runner';
import { exampleConfig, ROOT } from './support/synth';
import { describeWithTerraform } from './support/terraform/terraform-cli';

jest.setTimeout(240_000);

const CONFIG = 'config/example.json';

/** The example with one more account that the committed pipeline has no deployment step for. */
const WITH_SANDBOX = 'config/with-sandbox.json';
function withSandbox(): string {
  // The example with its lock's UUIDs written in, so that this second configuration needs no lock of its own.
  const config = exampleConfig();
  config.accounts.push({
    name: 'sandbox',
    accountId: '777788889999',
    region: 'eu-west-1',
    roles: [],
    deploymentEnvironment: { uuid: '{6f0e2b1a-9c8d-4e7f-a6b5-c4d3e2f1a0b9}', name: 'Sandbox' },
  });
  return JSON.stringify(config, null, 2);
}

/** A step's outcome for an assertion message: its name, result and the end of its log. */
const outcome = (result: StepResult) => ({ step: result.step.name, passed: result.passed, log: tail(result.log, 25) });

describeWithTerraform(
  (version) => `the pipeline rehearsal of ${CONFIG} (Terraform ${version})`,
  () => {
    let rehearsal: Rehearsal;
    let firstDeploy: AdminCommand[];
    let pullRequest: PipelineRun;
    let main: PipelineRun;
    const lines: string[] = [];

    beforeAll(async () => {
      // The commit also holds a second configuration, for the scenario whose repository variable names it.
      const files = { [WITH_SANDBOX]: withSandbox() };
      rehearsal = await Rehearsal.start({ root: ROOT, configFile: CONFIG, files, testStep: 'quick', out: (line) => lines.push(line) });
      firstDeploy = await rehearsal.firstDeploy();
      pullRequest = await rehearsal.pipeline(PULL_REQUEST);
      main = await rehearsal.pipeline(PUSH_TO_MAIN, { until: (step) => step.deployment !== undefined });
    });

    afterAll(async () => {
      await rehearsal?.stop();
      console.log(lines.join('\n'));
    });

    /** The STS log entries of AssumeRoleWithWebIdentity since `from`. */
    const assumed = (from: number) => rehearsal.aws.stsLog.slice(from).filter((e) => e.action === 'AssumeRoleWithWebIdentity');
    /** A stand-in for dist/explain.js that only derives role ARNs: the step without the doctor's check. */
    const withoutDoctor = () => {
      const file = path.join(rehearsal.work, 'explain-without-check.js');
      writeFileSync(file, "if (process.argv.includes('--print-role-arn')) require(require('path').resolve('dist/explain.js'));\n");
      return { EXPLAIN_JS: file };
    };
    const accounts = () => rehearsal.config.accounts;
    const roleArn = (account: string, role: 'plan' | 'deploy') => {
      const a = rehearsal.account(account);
      const name = role === 'plan' ? rehearsal.config.pipeline!.planRoleName : rehearsal.config.pipeline!.deployRoleName;
      return `arn:${a.partition}:iam::${a.accountId}:role${rehearsal.config.pipeline!.rolePath}${name}`;
    };
    const workloadRoles = async (account: string) =>
      ((await rehearsal.state(account, 'workload'))?.resources ?? [])
        .filter((r) => r.type === 'aws_iam_role')
        .map((r) => r.instances[0].attributes.name);

    it("runs the README's first deploy as an administrator: every bootstrap stack applied, its state in the bucket the state account created", async () => {
      expect(firstDeploy.map((c) => c.command)).toEqual(['npm run --silent synth', ...rehearsal.firstDeployCommands()]);
      for (const account of accounts()) {
        const state = await rehearsal.state(account.name, 'bootstrap');
        const roles = state?.resources
          .filter((r) => r.type === 'aws_iam_role')
          .map((r) => r.instances[0].attributes.name)
          .sort();
        expect({ account: account.name, roles }).toEqual({ account: account.name, roles: ['bitbucket-deploy', 'bitbucket-plan'] });
        expect(rehearsal.aws.world.roles.has(roleArn(account.name, 'deploy'))).toBe(true);
      }
    });

    it("runs the README's first-deploy block itself, for the example (the commands it shows are the ones rehearsed)", () => {
      const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
      const block = /<!-- first-deploy:start -->\n```sh\n([\s\S]*?)```/.exec(readme)![1];
      const shown = block
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.startsWith('#'))
        .slice(2);
      expect(rehearsal.firstDeployCommands().map((c) => c.replace(/ -backend-config=use_path_style=true/g, ''))).toEqual(shown);
    });

    it('tests on a pull request, then plans every account with its plan role, leaving each plan for review', () => {
      expect(pullRequest.results.map(outcome)).toEqual(pullRequest.results.map((r) => ({ ...outcome(r), passed: true })));
      const plan = pullRequest.results[1];
      for (const account of accounts()) {
        const stack = stackName(account, 'workload');
        expect(existsSync(path.join(plan.cloneDir, 'plans', `${stack}.txt`))).toBe(true);
        expect(readFileSync(path.join(plan.cloneDir, 'plans', `${stack}.digest`), 'utf8')).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      }
      const roles = rehearsal.aws.stsLog.filter((e) => e.action === 'AssumeRoleWithWebIdentity' && e.code === 'OK').map((e) => e.roleArn);
      expect(new Set(roles)).toEqual(new Set(accounts().map((a) => roleArn(a.name, 'plan'))));
    });

    it('installs the pinned Terraform in every step that runs it, from the archive server, checksum checked', () => {
      const installs = rehearsal.releases.requests.filter((r) => r.status === 200).length;
      expect(installs).toBeGreaterThanOrEqual(pullRequest.results.length);
      for (const result of pullRequest.results) expect(result.log).toMatch(/Installed Terraform \S+ \(SHA-256 verified\)/);
    });

    it('refuses a pull-request step that tries the deploy role: the doctor says why, and without the doctor STS refuses', async () => {
      const plan = rehearsal.stepNamed(PULL_REQUEST, pullRequest.results[1].step.name);
      const byDoctor = await rehearsal.step(pullRequest, plan, { variables: { PLAN_ROLE_NAME: 'bitbucket-deploy' } });
      const from = rehearsal.aws.stsLog.length;
      const bySts = await rehearsal.step(pullRequest, plan, { variables: { PLAN_ROLE_NAME: 'bitbucket-deploy', ...withoutDoctor() } });

      expect(byDoctor.passed).toBe(false);
      expect(byDoctor.log).toMatch(/DENY +staging\/bitbucket-deploy/);
      expect(bySts.passed).toBe(false);
      expect(bySts.log).toContain('Not authorized to perform sts:AssumeRoleWithWebIdentity');
      expect(assumed(from).map((e) => e.code)).toEqual(accounts().map(() => 'AccessDenied'));
    });

    it('tests and plans on main before any deployment', () => {
      expect(main.results.map((r) => r.passed)).toEqual([true, true]);
    });

    it("refuses a deployment step given a normal step's token, or another environment's, and applies nothing", async () => {
      const production = rehearsal.deploymentStep('production');
      const staging = rehearsal.account('staging').deploymentEnvironment!.uuid;
      const normal = await rehearsal.step(main, production, { token: (b) => rehearsal.tokenFor(b, null) });
      const otherEnvironment = await rehearsal.step(main, production, { token: (b) => rehearsal.tokenFor(b, staging) });
      const from = rehearsal.aws.stsLog.length;
      const normalBySts = await rehearsal.step(main, production, { token: (b) => rehearsal.tokenFor(b, null), variables: withoutDoctor() });
      const otherBySts = await rehearsal.step(main, production, {
        token: (b) => rehearsal.tokenFor(b, staging),
        variables: withoutDoctor(),
      });

      for (const refused of [normal, otherEnvironment]) {
        expect(outcome(refused)).toMatchObject({ passed: false });
        expect(refused.log).toMatch(/DENY +production\/bitbucket-deploy/);
      }
      for (const refused of [normalBySts, otherBySts]) {
        expect(outcome(refused)).toMatchObject({ passed: false });
        expect(refused.log).toContain('Not authorized to perform sts:AssumeRoleWithWebIdentity');
      }
      expect(assumed(from).map((e) => [e.roleArn, e.code])).toEqual([
        [roleArn('production', 'deploy'), 'AccessDenied'],
        [roleArn('production', 'deploy'), 'AccessDenied'],
      ]);
      expect(await rehearsal.state('production', 'workload')).toBeUndefined();
    });

    it('runs two deployment steps of one account at once: one applies, the other waits or fails on the lock and applies nothing', async () => {
      const staging = rehearsal.deploymentStep('staging');
      const both = await Promise.all([rehearsal.step(main, staging), rehearsal.step(main, staging)]);

      expect(both.map((r) => (r.passed ? 'applied' : 'refused')).sort()).toEqual(['applied', 'refused']);
      const refused = both.find((r) => !r.passed)!;
      // Refused by the digest check (its plan ran after the other applied), by Terraform (its saved plan went
      // stale), or on the lock (Terraform gives up when the lock it waits for vanishes while it reads it).
      expect(refused.log).toMatch(/differs from the plan reviewed in the plan step|Saved plan is stale|Error acquiring the state lock/);
      expect(await workloadRoles('staging')).toEqual(rehearsal.account('staging').roles.map((r) => r.name));
    });

    it('refuses an old deployment step re-run after a newer one applied, and leaves the state as it was', async () => {
      const before = await rehearsal.state('staging', 'workload');
      const again = await rehearsal.step(main, rehearsal.deploymentStep('staging'));

      expect(again.passed).toBe(false);
      expect(again.log).toContain('differs from the plan reviewed in the plan step');
      expect(await rehearsal.state('staging', 'workload')).toEqual(before);
    });

    it("deploys production with its deploy role; the applied states hold each account's workload roles, in IAM too", async () => {
      const from = rehearsal.aws.stsLog.length;
      const production = await rehearsal.step(main, rehearsal.deploymentStep('production'));

      expect(outcome(production)).toMatchObject({ passed: true });
      // Terraform's S3 backend and each start of the provider assume the role: every time the same one.
      expect(new Set(assumed(from).map((e) => `${e.roleArn} ${e.code}`))).toEqual(new Set([`${roleArn('production', 'deploy')} OK`]));
      for (const account of accounts()) {
        expect(await workloadRoles(account.name)).toEqual(account.roles.map((r) => r.name));
        for (const role of account.roles) {
          const arn = `arn:${account.partition}:iam::${account.accountId}:role${role.path}${role.name}`;
          expect(rehearsal.aws.world.roles.get(arn)?.assumeRolePolicy).toEqual(role.trustPolicy);
        }
      }
    });

    it("checks every account for drift with its plan role in the drift-check pipeline: none after the deployments, then one line naming each resource changed behind Terraform's back", async () => {
      // Given every account deployed: the scenarios above deployed them; run alone (-t drift), this deploys them.
      for (const account of accounts()) {
        if ((await rehearsal.state(account.name, 'workload')) === undefined) {
          expect(outcome(await rehearsal.step(main, rehearsal.deploymentStep(account.name)))).toMatchObject({ passed: true });
        }
      }
      const states = await Promise.all(accounts().map((a) => rehearsal.state(a.name, 'workload')));
      const from = rehearsal.aws.stsLog.length;
      const clean = await rehearsal.pipeline(DRIFT_CHECK);
      const drift = clean.results[1].step;

      /** The role record of an account's first workload role, as IAM holds it. */
      const roleRecord = (name: string) => {
        const account = rehearsal.account(name);
        const role = account.roles[0];
        return rehearsal.aws.world.roles.get(`arn:${account.partition}:iam::${account.accountId}:role${role.path}${role.name}`)!;
      };
      /** The drift check's line for the resource of the account's workload state with these attributes. */
      const changedOutside = (account: string, type: string, attributes: Record<string, string>) => {
        const state = states[accounts().findIndex((a) => a.name === account)]!;
        const found = state.resources.find(
          (r) => r.type === type && Object.entries(attributes).every(([key, value]) => r.instances[0].attributes[key] === value),
        );
        return `drift: ${stackName({ name: account }, 'workload')}: ${type}.${found?.name}: update (changed outside Terraform)`;
      };

      // Behind Terraform's back, as in the console: staging's role trusts one more principal, production's inline policy grows.
      const stagingRole = roleRecord('staging');
      const trust = stagingRole.assumeRolePolicy;
      stagingRole.assumeRolePolicy = {
        ...trust,
        Statement: [
          ...trust.Statement,
          { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999988887777:root' }, Action: 'sts:AssumeRole' },
        ],
      };
      const productionRole = roleRecord('production');
      const [policyName, policy] = [...productionRole.inlinePolicies][0];
      productionRole.inlinePolicies.set(policyName, {
        ...policy,
        Statement: [...policy.Statement, { Effect: 'Allow', Action: 's3:*', Resource: '*' }],
      });
      let drifted: StepResult;
      try {
        drifted = await rehearsal.step(clean, drift);
      } finally {
        stagingRole.assumeRolePolicy = trust;
        productionRole.inlinePolicies.set(policyName, policy);
      }
      const refused = await rehearsal.step(clean, drift, { variables: { PLAN_ROLE_NAME: rehearsal.config.pipeline!.deployRoleName } });

      expect(clean.results.map(outcome)).toEqual(clean.results.map((r) => ({ ...outcome(r), passed: true })));
      expect(tail(clean.results[1].log, 1)).toBe(
        `== checked ${accounts().length} account(s) for drift: every workload stack matches its configuration`,
      );
      // The YAML's own script lines ran, in order (the runner echoes each as `+ <line>`).
      for (const result of [clean.results[1], drifted]) {
        const at = drift.script.map((line) => result.log.indexOf(`+ ${line}\n`));
        expect(at.every((position, i) => position >= 0 && position > (at[i - 1] ?? -1))).toBe(true);
      }
      expect(outcome(drifted)).toMatchObject({ passed: false });
      expect(drifted.exitCode).toBe(3);
      // Accounts in the order of their stacks (production, then staging).
      expect(drifted.log.match(/^drift: bitbucket-oidc-.*$/gm)).toEqual([
        changedOutside('production', 'aws_iam_role_policy', { role: productionRole.name, name: policyName }),
        changedOutside('staging', 'aws_iam_role', { name: stagingRole.name }),
      ]);
      // An account that cannot be checked fails the step as an error, not as drift.
      expect(refused.exitCode).toBe(1);
      expect(refused.log).toContain(
        `error: the drift check failed for ${accounts().length} of ${accounts().length} accounts, which were not checked`,
      );
      expect(refused.log).not.toMatch(/^drift:/m);
      // Read-only: only the plan roles were assumed, and no state changed.
      const planRoles = new Set(accounts().map((a) => `${roleArn(a.name, 'plan')} OK`));
      expect(
        new Set(
          assumed(from)
            .filter((e) => e.code === 'OK')
            .map((e) => `${e.roleArn} ${e.code}`),
        ),
      ).toEqual(planRoles);
      expect(await Promise.all(accounts().map((a) => rehearsal.state(a.name, 'workload')))).toEqual(states);
    });

    it('refuses the plan role writing its state: S3 answers AccessDenied and the state stays as it was', async () => {
      const stack = stackName({ name: 'staging' }, 'workload');
      const before = await rehearsal.state('staging', 'workload');
      const role = before!.resources.find((r) => r.type === 'aws_iam_role')!;
      const write = await rehearsal.step(pullRequest, rehearsal.stepNamed(PULL_REQUEST, pullRequest.results[1].step.name), {
        script: [
          'scripts/install-terraform.sh',
          'export AWS_WEB_IDENTITY_TOKEN_FILE="$PWD/.token" && printf \'%s\' "$BITBUCKET_STEP_OIDC_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"',
          'export AWS_ROLE_ARN="$(node dist/explain.js --print-role-arn --account staging --role bitbucket-plan)"',
          `terraform -chdir=cdktf.out/stacks/${stack} init -input=false -lockfile=readonly`,
          `terraform -chdir=cdktf.out/stacks/${stack} state rm 'aws_iam_role.${role.name}'`,
        ],
      });

      expect(write.passed).toBe(false);
      expect(write.log).toContain('AccessDenied');
      expect(write.log).toContain(
        `is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${rehearsal.config.state.bucket}/${stateKey(rehearsal.config.state, rehearsal.account('staging'), 'workload')}"`,
      );
      expect(await rehearsal.state('staging', 'workload')).toEqual(before);
    });

    it('fails the test step with the pipeline-fit message when the configuration gains an account without a deployment step', async () => {
      const test = await rehearsal.step(pullRequest, pullRequest.results[0].step, { variables: { BITBUCKET_OIDC_CONFIG: WITH_SANDBOX } });

      expect(test.passed).toBe(false);
      expect(test.log).toContain(`gives every account of ${WITH_SANDBOX} a deployment step`);
      expect(test.log).toMatch(/sandbox/);
    });

    it('checks the lock file against Bitbucket in the check-names pipeline, with a read-only token in repository variables, and fails once an environment is created again', async () => {
      const email = 'platform@acme.example';
      const apiToken = 'ATATT3xFfGF0-rehearsal-secret-71c0de';
      const bitbucket = await startBitbucketApiDouble({ workspaces: exampleWorld(), credentials: { apiTokens: [{ email, apiToken }] } });
      try {
        const variables = { BITBUCKET_API_URL: bitbucket.url, BITBUCKET_EMAIL: email, BITBUCKET_API_TOKEN: apiToken };
        const agrees = await rehearsal.pipeline(CHECK_NAMES, { variables });
        const production = bitbucket.workspaces[0].repositories[0].environments.find((e) => e.name === 'Production')!;
        production.uuid = '{5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d}';
        const recreated = await rehearsal.pipeline(CHECK_NAMES, { variables });

        expect(agrees.results.map(outcome)).toEqual([expect.objectContaining({ passed: true })]);
        expect(agrees.results[0].log).toContain('config/example.lock.json agrees with Bitbucket');
        expect(recreated.results[0].passed).toBe(false);
        expect(recreated.results[0].log).toContain('environment "Production" of "acme/infra" was deleted and created again');
        for (const run of [agrees, recreated]) expect(run.results[0].log).not.toContain(apiToken);
        expect(bitbucket.requests.every((r) => r.auth === 'basic' && r.authenticated)).toBe(true);
      } finally {
        await bitbucket.stop();
      }
    });

    it("refuses to bootstrap the state account again, leaving the bucket's state as it was", async () => {
      const stateAccount = rehearsal.config.state.account!.name;
      const before = await rehearsal.state(stateAccount, 'bootstrap');
      const again = await rehearsal.administrator(rehearsal.firstDeployCommands()[0]);

      expect(again.code).toBe(1);
      expect(again.output).toContain(`the bucket already holds the state of ${stackName({ name: stateAccount }, 'bootstrap')}`);
      expect(await rehearsal.state(stateAccount, 'bootstrap')).toEqual(before);
    });

    it('refuses to bootstrap when the bucket cannot be read (an unknown access key), since it may hold the state', async () => {
      const stateAccount = rehearsal.config.state.account!.name;
      const unknownKey = { AWS_PROFILE: '', AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNUNKNOWN00', AWS_SECRET_ACCESS_KEY: 'unknown' };
      const refused = await rehearsal.administrator(
        `scripts/bootstrap-state.sh ${stateAccount} -backend-config=use_path_style=true`,
        unknownKey,
      );

      expect(refused.code).toBe(1);
      expect(refused.output).toContain('failed for another reason than a missing bucket');
      expect(refused.output).toContain('InvalidClientTokenId');
    });

    it('refuses to bootstrap-state an account whose bootstrap stack does not create the bucket, before running Terraform', async () => {
      const other = accounts().find((a) => a.name !== rehearsal.config.state.account!.name)!;
      const refused = await rehearsal.administrator(`scripts/bootstrap-state.sh ${other.name}`);

      expect(refused.code).toBe(2);
      expect(refused.output).toContain(`${stackName(other, 'bootstrap')} does not create the state bucket`);
    });
  },
);
