/**
 * The Terraform acceptance run behind `__tests__/terraform.test.ts`: synthesize every configuration
 * as JSON and HCL, install the stub provider, and put every stack through Terraform, a bounded number
 * at a time. Failures are recorded, not thrown, so each test reports its own.
 */
import { readFileSync, statSync } from 'fs';
import * as path from 'path';
import { Launch, runStack, StackOutcome, StubAccess, validateEdited } from './acceptance';
import { installStubProvider, StubProvider } from './plugin-dir';
import { AcceptanceConfig, StackFormat, synthesizeConfig, SynthesizedStack, SynthResult, typesUsed } from './stacks';
import { startStubServer, StubServer } from './stub-server';
import { lockFileForStub } from './stub-lock';
import { inPool, terraformEnv, TerraformRun } from './terraform-cli';

export const FORMATS: readonly StackFormat[] = ['json', 'hcl'];

/** What a run produced. */
export interface SuiteRun {
  /** By configuration slug. */
  readonly synth: Map<string, Record<StackFormat, SynthResult>>;
  readonly outcomes: StackOutcome[];
  readonly provider: StubProvider;
  /** `validate` of an example stack with a role argument misspelt, by format. */
  readonly misspelt: Partial<Record<StackFormat, TerraformRun>>;
  /** One line: stacks, formats, time. */
  readonly summary: string;
  /** The lock file generated for the stub, which every stack's copy gets instead of the project's. */
  readonly stubLock: string;
}

/**
 * Runs everything in `root`. The stub servers it starts are pushed to `servers` as they start, for
 * the caller to stop whatever happens.
 */
export async function runSuite(configs: readonly AcceptanceConfig[], root: string, parallelism: number, servers: StubServer[]): Promise<SuiteRun> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  const synth = new Map<string, Record<StackFormat, SynthResult>>();
  for (const config of configs) {
    const json = await synthesizeConfig(config, 'json', path.join(root, 'synth', config.slug, 'json'));
    const hcl = await synthesizeConfig(config, 'hcl', path.join(root, 'synth', config.slug, 'hcl'));
    synth.set(config.slug, { json, hcl });
  }
  const synthSeconds = elapsed();
  const stacks = [...synth.values()].flatMap((r) => [...r.json.stacks, ...r.hcl.stacks]);
  const provider = installStubProvider(root, typesUsed(stacks));
  const env = terraformEnv(root);
  const stubLock = await lockFileForStub(provider.pluginDir, provider.version, path.join(root, 'stub-lock'), env);
  for (let lane = 0; lane < parallelism; lane++) servers.push(await startStubServer(provider.bundle, provider.address));
  const access = (launch: Launch, lane: number, log: string): StubAccess => ({
    pluginDir: provider.pluginDir,
    launch,
    env: { ...env, TF_STUB_AWS_LOG: log, ...(launch === 'reattach' ? { TF_REATTACH_PROVIDERS: servers[lane].reattach } : {}) },
    untouchedFirst: launch === 'plugin-dir',
    lockFile: stubLock,
  });

  // The launch path of a real provider (init -plugin-dir, go-plugin handshake, AutoMTLS, a process
  // per command) and the validation of the untouched stack (S3 backend block included) on the
  // example's smallest stack in each format; the other stacks attach to a running stub, five times
  // faster. The slow jobs go first, so that the lanes end together.
  const example = synth.get('example');
  const smallest = (format: StackFormat) => [...(example?.[format].stacks ?? [])].sort((a, b) => sizeOf(a) - sizeOf(b))[0];
  const launched = new Set(FORMATS.map(smallest).filter((s) => s !== undefined));
  const withRole = (format: StackFormat) => example?.[format].stacks.find((s) => textOf(s).includes('"aws_iam_role"'));
  type Job = { kind: 'stack'; stack: SynthesizedStack; launch: Launch } | { kind: 'misspelt'; stack: SynthesizedStack };
  const jobs: Job[] = [
    ...stacks.filter((s) => launched.has(s)).map((stack) => ({ kind: 'stack', stack, launch: 'plugin-dir' }) as const),
    ...FORMATS.map(withRole).filter((s) => s !== undefined).map((stack) => ({ kind: 'misspelt', stack }) as const),
    ...stacks.filter((s) => !launched.has(s)).map((stack) => ({ kind: 'stack', stack, launch: 'reattach' }) as const),
  ];

  const misspelt: Partial<Record<StackFormat, TerraformRun>> = {};
  const outcomes: StackOutcome[] = [];
  await inPool(jobs, parallelism, async (job, lane) => {
    if (job.kind === 'misspelt') {
      const dir = path.join(root, 'tf', `misspelt-${job.stack.format}`);
      const edit = job.stack.format === 'json' ? misspellInJson : misspellInHcl;
      misspelt[job.stack.format] = await validateEdited(job.stack, dir, edit, provider.pluginDir, access('reattach', lane, `${dir}.stub.log`).env);
    } else {
      const dir = path.join(root, 'tf', `${job.stack.config.slug}-${job.stack.name}-${job.stack.format}`);
      outcomes.push(await runStack(job.stack, dir, access(job.launch, lane, `${dir}.stub.log`)));
    }
  });

  const count = (format: StackFormat) => outcomes.filter((o) => o.stack.format === format).length;
  const busy = new Map<string, number>();
  for (const { args, seconds } of outcomes.flatMap((o) => o.runs)) busy.set(args[0], (busy.get(args[0]) ?? 0) + seconds);
  const summary =
    `Terraform acceptance: ${outcomes.length} stacks (${count('json')} JSON, ${count('hcl')} HCL) of ${configs.length} configurations ` +
    `through init, validate, plan and apply (${outcomes.filter((o) => o.failure === undefined).length} passed) in ${elapsed().toFixed(1)} s, ` +
    `${parallelism} at a time (synth ${synthSeconds.toFixed(1)} s; terraform ${[...busy].map(([c, s]) => `${c} ${s.toFixed(1)} s`).join(', ')})`;
  return { synth, outcomes, provider, misspelt, summary, stubLock };
}

function textOf(stack: SynthesizedStack): string {
  return readFileSync(path.join(stack.dir, stack.file), 'utf8');
}

function sizeOf(stack: SynthesizedStack): number {
  return statSync(path.join(stack.dir, stack.file)).size;
}

/** Adds `nmae` (a misspelt `name`) to the first role of a JSON stack. */
export function misspellInJson(text: string): string {
  const json = JSON.parse(text) as { resource: { aws_iam_role: Record<string, Record<string, unknown>> } };
  const [role] = Object.values(json.resource.aws_iam_role);
  role.nmae = role.name;
  return JSON.stringify(json, null, 2);
}

/** Adds `nmae` (a misspelt `name`) to the first role of an HCL stack. */
export function misspellInHcl(text: string): string {
  return text.replace(/^(resource "aws_iam_role" "[^"]+" \{)$/m, '$1\n  nmae = "misspelt"');
}
