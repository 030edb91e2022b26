// The CDKTF app: `npm run synth` (fast path), or `cdktf synth|deploy|diff` through cdktf.json.
import { synthesize } from './src/synth';

process.exitCode = synthesize();
