/** Builds the CDKTF app (one stack per account) from a validated configuration. */
import { App } from 'cdktf';
import { ResolvedConfig, stackName } from '../config/types';
import { AccountStack } from './account-stack';

/** Options of `buildApp`. */
export interface BuildAppOptions {
  /** Where `synth()` writes. @default - cdktf's default (`cdktf.out`, or the CLI's `CDKTF_OUTDIR`) */
  readonly outdir?: string;
}

/** One `AccountStack` per account of the configuration, in an App ready to synth. */
export function buildApp(config: ResolvedConfig, options: BuildAppOptions = {}): { app: App; stacks: AccountStack[] } {
  const app = new App({ ...(options.outdir === undefined ? {} : { outdir: options.outdir }), skipValidation: false });
  const stacks = config.accounts.map((account) => new AccountStack(app, stackName(account), { config, account }));
  return { app, stacks };
}
