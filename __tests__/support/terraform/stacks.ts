/**
 * The configurations the Terraform suites run, and their stacks synthesized by the project's own
 * entry point (`synthesize` of `src/cli/synth.ts`), as Terraform JSON (`cdk.tf.json`) and as the HCL that
 * `cdktf synth --hcl` writes (`cdk.tf`).
 *
 * HCL in-process: the cdktf CLI sets `SYNTH_HCL_OUTPUT=true` for the app and then formats every
 * `cdk.tf` with `@cdktf/hcl-tools`. cdktf 0.21 reads that variable when each stack is constructed
 * (`new App({ hclOutput: true })` alone only renames the file: it writes JSON into `cdk.tf`), so the
 * variable is set around the synth here, and the files are formatted the same way.
 */
import { lockPathFor } from '../../../src/config/lock';
import { format as formatHcl } from '@cdktf/hcl-tools';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { synthesize } from '../../../src/cli/synth';
import { generateConfig } from '../generate-config';

/** The project root. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');

export type StackFormat = 'json' | 'hcl';

/** A configuration the suites synthesize: a file of the project, or a document written at run time. */
export interface AcceptanceConfig {
  /** How test titles name it. */
  readonly name: string;
  /** A short name for folders. */
  readonly slug: string;
  readonly file?: string;
  readonly document?: unknown;
  /** The lock file that goes with `document`, when it names things (written beside it, under the name the lock gives). */
  readonly lock?: { readonly config: string };
}

/** The fixture whose policies and description hold `${...}` and `%{...}` that must reach AWS literally. */
export const POLICY_VARIABLES_FIXTURE = path.join(ROOT, '__tests__', 'fixtures', 'policy-variables.json');

/** Size of the generated configuration. */
export const GENERATED = { roles: 40, accounts: 2, seed: 11 } as const;

/**
 * Every configuration the suites run: the bundled example, the scenarios of docs/configuration.md
 * that are whole files, the corpus's valid configurations, the policy-variables fixture and a large generated one.
 */
export function acceptanceConfigs(): AcceptanceConfig[] {
  const corpus = path.join(ROOT, '__tests__', 'corpus');
  return [
    { name: 'the bundled example', slug: 'example', file: path.join(ROOT, 'config', 'example.json') },
    ...documentedConfigs().map((c, i) => ({
      name: `docs/configuration.md "${c.heading}"`,
      slug: `documented-${i + 1}`,
      document: c.document,
      ...(c.lock === undefined ? {} : { lock: c.lock }),
    })),
    ...readdirSync(corpus)
      .filter((f) => /^pass-.*\.json$/.test(f))
      .sort()
      .map((f) => ({ name: `corpus ${f}`, slug: f.replace(/\.json$/, ''), file: path.join(corpus, f) })),
    { name: 'the policy-variables fixture', slug: 'policy-variables', file: POLICY_VARIABLES_FIXTURE },
    {
      name: `a generated configuration of ${GENERATED.roles} roles in ${GENERATED.accounts} accounts`,
      slug: 'generated',
      document: generateConfig({ roles: GENERATED.roles, accounts: GENERATED.accounts, seed: GENERATED.seed }),
    },
  ];
}

/** The page whose complete configurations the suites and `npm run rehearse -- --documented` run. */
export const DOCUMENTED_CONFIGS_PAGE = path.join('docs', 'configuration.md');

/**
 * The JSON blocks of docs/configuration.md that are whole configuration files (the others are single
 * roles), with their heading, and the lock file that a block right after one shows for it.
 */
export function documentedConfigs(): { heading: string; document: unknown; lock?: { config: string } }[] {
  const readme = readFileSync(path.join(ROOT, DOCUMENTED_CONFIGS_PAGE), 'utf8');
  const found: { heading: string; document: unknown; lock?: { config: string } }[] = [];
  let heading = '';
  for (const part of readme.split(/^```/m).map((text, i) => ({ text, code: i % 2 === 1 }))) {
    if (!part.code) {
      heading = [...part.text.matchAll(/^#{2,4} (.+)$/gm)].pop()?.[1] ?? heading;
      continue;
    }
    if (!part.text.startsWith('json\n')) continue;
    let document: unknown;
    try {
      document = JSON.parse(part.text.slice('json\n'.length));
    } catch {
      continue; // not JSON after all: the page's own tests check its blocks
    }
    if (typeof document !== 'object' || document === null) continue;
    if ('accounts' in document) found.push({ heading, document });
    const last = found[found.length - 1];
    if ('lockVersion' in document && last?.heading === heading && last.lock === undefined) last.lock = document as unknown as { config: string };
  }
  return found;
}

/** One synthesized stack. */
export interface SynthesizedStack {
  readonly config: AcceptanceConfig;
  /** The stack's name, e.g. `bitbucket-oidc-production`. */
  readonly name: string;
  readonly format: StackFormat;
  /** The stack's folder (holding `cdk.tf.json` or `cdk.tf`). */
  readonly dir: string;
  /** The stack's Terraform file in `dir`. */
  readonly file: string;
}

/** What a synth gave: the stacks, or the synth's own error output. */
export interface SynthResult {
  readonly stacks: SynthesizedStack[];
  readonly error?: string;
}

/** Synthesizes a configuration into `outdir` with the project's entry point, as JSON or as HCL. */
export async function synthesizeConfig(config: AcceptanceConfig, format: StackFormat, outdir: string): Promise<SynthResult> {
  mkdirSync(outdir, { recursive: true });
  const file = config.file ?? path.join(outdir, config.slug, config.lock?.config ?? `${config.slug}.json`);
  if (config.file === undefined) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(config.document, null, 2));
    if (config.lock !== undefined) writeFileSync(lockPathFor(file), JSON.stringify(config.lock, null, 2));
  }
  const lines: string[] = [];
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = String(format === 'hcl');
  let code: number;
  try {
    code = synthesize({ env: { BITBUCKET_OIDC_CONFIG: file }, cwd: ROOT, outdir, stdout: (l) => lines.push(l), stderr: (l) => lines.push(l) });
  } catch (error) {
    return { stacks: [], error: String((error as Error).stack ?? error) };
  } finally {
    if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = previous;
  }
  if (code !== 0) return { stacks: [], error: lines.join('\n') };

  const manifest = JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as {
    stacks: Record<string, { synthesizedStackPath: string }>;
  };
  const stacks: SynthesizedStack[] = [];
  for (const [name, stack] of Object.entries(manifest.stacks)) {
    const stackFile = path.join(outdir, stack.synthesizedStackPath);
    if (format === 'hcl') writeFileSync(stackFile, await formatHcl(readFileSync(stackFile, 'utf8')));
    stacks.push({ config, name, format, dir: path.dirname(stackFile), file: path.basename(stackFile) });
  }
  return { stacks };
}

/** The resource and data-source types a set of JSON stacks use. */
export function typesUsed(stacks: readonly SynthesizedStack[]): { resources: string[]; dataSources: string[] } {
  const resources = new Set<string>();
  const dataSources = new Set<string>();
  for (const stack of stacks.filter((s) => s.format === 'json')) {
    const json = JSON.parse(readFileSync(path.join(stack.dir, stack.file), 'utf8')) as { resource?: object; data?: object };
    Object.keys(json.resource ?? {}).forEach((t) => resources.add(t));
    Object.keys(json.data ?? {}).forEach((t) => dataSources.add(t));
  }
  return { resources: [...resources], dataSources: [...dataSources] };
}
