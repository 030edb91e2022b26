// `npm run pipeline-steps`: the deployment steps of the configuration, ready to paste into bitbucket-pipelines.yml.
import { runPipelineSteps } from '../ci/deployment-steps';

process.exitCode = runPipelineSteps({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
