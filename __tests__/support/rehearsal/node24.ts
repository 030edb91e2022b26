/**
 * Node.js 24 for the rehearsal's steps: the pipeline's image is node:24-bookworm, and the suite may
 * run on Node.js 20. It stands in for the image's Node.js: this process's own binary when it is 24,
 * else the one npx installs from the `node` package (npx keeps it in its cache, so later runs are
 * offline). npm and npx come from the machine's PATH (/usr/bin) and run on the Node.js 24 found first.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';

const run = promisify(execFile);
const MAJOR = 24;

/** The bin folder holding Node.js 24's `node`; throws a clear error when it cannot be found. */
export async function node24BinDir(): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) === MAJOR) return path.dirname(process.execPath);
  let execPath: string;
  try {
    const npx = path.join(path.dirname(process.execPath), 'npx');
    const env = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: process.env.HOME ?? '/root' };
    const args = ['--yes', '--package', `node@${MAJOR}`, '--', 'node', '-p', 'process.execPath'];
    const { stdout } = await run(npx, args, { env, timeout: 300_000 });
    execPath = stdout.trim();
  } catch (error) {
    throw new Error(
      `Node.js ${MAJOR} is needed to run the pipeline's steps (its image is node:${MAJOR}), and this is Node.js ` +
        `${process.versions.node}; \`npx --package node@${MAJOR}\` could not provide it: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  const { stdout: version } = await run(execPath, ['--version']);
  if (!version.startsWith(`v${MAJOR}.`)) throw new Error(`${execPath} is Node.js ${version.trim()}, not ${MAJOR}`);
  return path.dirname(execPath);
}
