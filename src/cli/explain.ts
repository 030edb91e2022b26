// The token doctor: `npm run explain -- --token-file token.jwt` (see docs/doctor.md).
import { runDoctor } from '../doctor/cli';
import { EXIT } from '../doctor/errors';

runDoctor({ argv: process.argv.slice(2) }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`internal error (a bug of the doctor, please report it): ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.internal;
  },
);
