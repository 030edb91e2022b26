// The CDKTF app: `npm run synth` (scripts/synth.js runs the bundle of this file), or `cdktf synth|deploy|diff` through cdktf.json.
import { main } from './src/cli/synth';

// A reader that stops early (`npm run synth | head -1`) is not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? undefined : 1));
}

process.exitCode = main();
