// `terraform show -json <planfile> | node dist/plan-digest.js`: the digest of a saved plan's changes.
import { readFileSync } from 'fs';
import { runPlanDigest } from '../ci/reviewed-plan';

process.exitCode = runPlanDigest({
  argv: process.argv.slice(2),
  stdin: readFileSync(0, 'utf8'),
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
