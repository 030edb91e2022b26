/**
 * The synth entry point: load and validate the configuration, report every problem at once (exit 1,
 * nothing written), else write one stack per account to `cdktf.out/stacks/`.
 */
import { existsSync, rmSync } from 'fs';
import * as path from 'path';
import { buildApp } from './stacks/app';
import { stackName } from './config/types';
import { CONFIG_ENV_VAR, loadConfig } from './config/load';
import { ConfigError } from './config/validate';

/** Where synth reads from and reports to; the defaults are the process's. */
export interface SynthOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** @default - `CDKTF_OUTDIR` (set by the cdktf CLI), else `cdktf.out` */
  readonly outdir?: string;
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
}

/** Runs the synth; returns the process exit code. */
export function synthesize(options: SynthOptions = {}): number {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const out = options.stdout ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  const outdir = path.resolve(cwd, options.outdir ?? env.CDKTF_OUTDIR ?? 'cdktf.out');

  const stacksDir = path.join(outdir, 'stacks');
  let loaded;
  try {
    loaded = loadConfig(env, cwd);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err(`error: ${error.message}`);
    // Stacks of an earlier run must not be deployed (`cdktf deploy --skip-synth`) as if they were this config's.
    const stale = existsSync(stacksDir);
    rmSync(stacksDir, { recursive: true, force: true });
    err(`Nothing was synthesized${stale ? ` (the previous stacks in ${path.relative(cwd, stacksDir) || stacksDir} were removed, so they cannot be deployed by mistake)` : ''}. Fix the problems above and run again.`);
    return 1;
  }
  const { config, warnings, file, isExample } = loaded;
  if (isExample) {
    err(`note: ${CONFIG_ENV_VAR} is not set, so the bundled example ${path.relative(cwd, file) || file} is used; its accounts are AWS's documentation accounts, so it can never be applied. Set ${CONFIG_ENV_VAR}=path/to/your-config.json.`);
  }
  for (const warning of warnings) err(`warning: ${warning}`);

  // Stacks of accounts removed from the config must not linger for the pipeline to plan.
  rmSync(stacksDir, { recursive: true, force: true });
  const { app } = buildApp(config, { outdir });
  app.synth();

  const where = path.relative(cwd, stacksDir) || stacksDir;
  out(`Synthesized ${config.accounts.length} stack(s) from ${path.relative(cwd, file) || file} into ${where}/:`);
  for (const account of config.accounts) {
    const provider = account.reuseProvider ? 'reuses the existing OIDC provider' : 'creates the OIDC provider';
    out(`  ${stackName(account)}: account ${account.accountId}, ${provider}, roles ${account.roles.map((r) => r.name).join(', ')}`);
  }
  return 0;
}
