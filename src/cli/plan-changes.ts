// `terraform show -json <planfile> | node dist/plan-changes.js`: one line per change of a saved plan.
import { readFileSync } from 'fs';
import { runPlanChanges } from '../ci/plan-changes';

process.exitCode = runPlanChanges({
  argv: process.argv.slice(2),
  stdin: readFileSync(0, 'utf8'),
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
