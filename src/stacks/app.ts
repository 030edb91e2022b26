/** Builds the CDKTF app (a bootstrap and a workload stack per account) from a validated configuration. */
import { App } from 'cdktf';
import { ResolvedConfig } from '../config/types';
import { AccountStack } from './account-stack';
import { BootstrapStack } from './bootstrap-stack';
import { WorkloadStack } from './workload-stack';

/** Options of `buildApp`. */
export interface BuildAppOptions {
  /** Where `synth()` writes. @default - cdktf's default (`cdktf.out`, or the CLI's `CDKTF_OUTDIR`) */
  readonly outdir?: string;
}

/** Every account's `BootstrapStack` and `WorkloadStack`, in an App ready to synth. */
export function buildApp(config: ResolvedConfig, options: BuildAppOptions = {}): { app: App; stacks: AccountStack[] } {
  const app = new App({ ...(options.outdir === undefined ? {} : { outdir: options.outdir }), skipValidation: false });
  const stacks = config.accounts.flatMap((account) => [
    new BootstrapStack(app, { config, account }),
    new WorkloadStack(app, { config, account }),
  ]);
  return { app, stacks };
}
