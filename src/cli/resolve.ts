// `npm run resolve [-- --check]`: the UUIDs of the configuration's names, from Bitbucket, into its lock file.
import { runResolve } from '../resolve/command';

runResolve({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
}).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 2;
  },
);
