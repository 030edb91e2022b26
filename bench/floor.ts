/**
 * The benchmark's floor: an empty CDKTF app that loads exactly the modules the synth loads, and
 * synthesizes one empty stack. The synth cannot be faster than this; the difference is the project's
 * own work.
 *
 * Which modules: `bench.ts` reads the synth bundle's metafile, takes every node_modules file that the
 * project's own files (main.ts, src/**) import (cdktf, constructs, each deep `@cdktf/provider-aws/lib/...`
 * module, yaml, ...), and bundles an entry that imports each of them and passes them to `emptyApp`,
 * with the synth's esbuild options. So the floor follows the synth's imports by itself; `bench.ts`
 * still checks that both bundles hold the same node_modules files.
 *
 * Usage (of the bundle bench.ts writes): node dist/bench/floor.js <outdir>
 */
import { App, TerraformStack } from 'cdktf';
import * as path from 'path';

/** Checks every module loaded, then synthesizes an empty app with one empty stack into `argv[2]`. */
export function emptyApp(loaded: readonly unknown[]): void {
  // The modules are passed in, so the bundler keeps every import (an unused one would be dropped, and not loaded).
  const empty = loaded.findIndex((module) => module === null || typeof module !== 'object' || Object.keys(module).length === 0);
  if (empty !== -1) throw new Error(`module ${empty} of the floor did not load`);
  const outdir = path.resolve(process.argv[2] ?? 'cdktf.out');
  const app = new App({ outdir });
  new TerraformStack(app, 'floor');
  app.synth();
}
