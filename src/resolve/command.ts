/**
 * `npm run resolve`: reads the configuration named by `BITBUCKET_OIDC_CONFIG`, asks Bitbucket's REST
 * API 2.0 for the UUIDs of its names, and writes the lock file beside it (`config/acme.json` ->
 * `config/acme.lock.json`), through a temporary file renamed into place, so a failed run leaves the
 * previous lock untouched. `npm run resolve -- --check` writes nothing: it compares the lock with
 * Bitbucket and prints one line per difference.
 *
 * Environment: `BITBUCKET_API_URL` (default https://api.bitbucket.org/2.0), and `BITBUCKET_EMAIL` with
 * `BITBUCKET_API_TOKEN` (an Atlassian API token, Basic auth) or `BITBUCKET_ACCESS_TOKEN` (Bearer).
 * Exit codes: 0 written (or, with --check, the lock agrees); 1 nothing written because of a problem
 * (with --check: the lock and Bitbucket differ); 2 bad usage, or --check could not compare.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { authFromEnv, BitbucketApiClient, BitbucketApiError } from '../bitbucket/api';
import { CONFIG_ENV_VAR, configPath, readConfigInput } from '../config/load';
import { LockNames } from '../config/names';
import { LockFileError, lockPathFor, lockText, readLockFor, RESOLVE_COMMAND } from '../config/lock';
import { ConfigError, validateConfig } from '../config/validate';
import { lockDifferences } from './check';
import { RecordingNames } from './recording-names';
import { resolveNames } from './resolve';

/** The environment variable of the API's base URL. */
export const API_URL_ENV_VAR = 'BITBUCKET_API_URL';

export const RESOLVE_USAGE = `usage: ${RESOLVE_COMMAND} [-- --check]   (reads ${CONFIG_ENV_VAR}; credentials: BITBUCKET_EMAIL and BITBUCKET_API_TOKEN, or BITBUCKET_ACCESS_TOKEN)`;

/** What the command reads and writes, so tests run it in-process. */
export interface ResolveOptions {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** Waits between retries. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Runs `npm run resolve [-- --check]`; resolves with the exit code. */
export async function runResolve(options: ResolveOptions): Promise<number> {
  const { argv, env, cwd, stdout, stderr } = options;
  const unknown = argv.filter((arg) => arg !== '--check');
  if (unknown.length > 0) {
    stderr(`error: unknown argument ${JSON.stringify(unknown[0])}; ${RESOLVE_USAGE}`);
    return 2;
  }
  const checking = argv.includes('--check');
  const failed = checking ? 2 : 1;
  const { file, isExample } = configPath(env, cwd);
  if (isExample) {
    stderr(
      `error: ${CONFIG_ENV_VAR} is not set: set it to your configuration file, e.g. ${CONFIG_ENV_VAR}=config/acme.json ${RESOLVE_COMMAND}`,
    );
    return 2;
  }
  const shown = (target: string) => path.relative(cwd, target) || target;
  const lockFile = lockPathFor(file);

  let client: BitbucketApiClient;
  try {
    const baseUrl = env[API_URL_ENV_VAR]?.trim();
    client = new BitbucketApiClient({
      auth: authFromEnv(env),
      ...(baseUrl === undefined || baseUrl === '' ? {} : { baseUrl }),
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
      onRetry: (notice) =>
        stderr(
          `note: ${notice.reason} (${notice.status ?? 'no answer'}) for GET ${notice.url}; retrying in ${Math.ceil(notice.delayMs / 1000)} s`,
        ),
    });
  } catch (error) {
    if (!(error instanceof BitbucketApiError)) throw error;
    stderr(`error: ${error.message}`);
    return failed;
  }

  try {
    const input = readConfigInput(file, shown(file));
    if (checking) return await check(input, file, client, { stdout, stderr, shown });

    const recorder = new RecordingNames();
    validateConfig(input, shown(file), path.dirname(file), recorder);
    const result = await resolveNames(recorder, client, path.basename(file));
    if (result.lock === undefined) {
      const count = result.problems.length === 1 ? '1 problem' : `${result.problems.length} problems`;
      stderr(
        `error: ${count} in ${shown(file)}, so ${shown(lockFile)} was not written:\n${result.problems.map((p) => `  - ${p.message}`).join('\n')}`,
      );
      return 1;
    }
    const content = lockText(result.lock);
    let previous: string | undefined;
    try {
      previous = readFileSync(lockFile, 'utf8');
    } catch {
      previous = undefined;
    }
    const repositories = Object.values(result.lock.repositories);
    const environments = repositories.reduce((sum, r) => sum + Object.keys(r.environments).length, 0);
    const summary = `workspace ${result.lock.workspace.slug}, ${repositories.length} repositories, ${environments} environments`;
    if (previous === content) {
      stdout(`${shown(lockFile)} is up to date (${summary})`);
      return 0;
    }
    writeAtomically(lockFile, content);
    stdout(`wrote ${shown(lockFile)} (${summary}): commit it with ${shown(file)}`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof BitbucketApiError) {
      stderr(`error: ${error.message}`);
      if (!checking) stderr(`${shown(lockFile)} was not written.`);
      return failed;
    }
    throw error;
  }
}

/** --check: the config against the lock (as the synth reads it), then the lock against Bitbucket. */
async function check(
  input: unknown,
  file: string,
  client: BitbucketApiClient,
  io: { stdout: (line: string) => void; stderr: (line: string) => void; shown: (target: string) => string },
): Promise<number> {
  const lockFile = lockPathFor(file);
  let loaded;
  try {
    loaded = readLockFor(file);
  } catch (error) {
    if (!(error instanceof LockFileError)) throw error;
    io.stderr(`error: ${error.message}; run ${RESOLVE_COMMAND} to write it again`);
    return 2;
  }
  if (loaded === undefined) {
    io.stderr(`error: there is no lock file ${io.shown(lockFile)} to check: run ${RESOLVE_COMMAND} first`);
    return 2;
  }
  const differences: string[] = [];
  try {
    validateConfig(input, io.shown(file), path.dirname(file), new LockNames(loaded, io.shown(lockFile)));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    differences.push(...error.problems.map((p) => `${io.shown(file)}: ${p.message}`));
  }
  differences.push(...(await lockDifferences(loaded.lock, client)));
  if (differences.length === 0) {
    io.stdout(`${io.shown(lockFile)} agrees with Bitbucket`);
    return 0;
  }
  for (const line of differences) io.stdout(line);
  io.stderr(`${io.shown(lockFile)} differs from Bitbucket in ${differences.length === 1 ? '1 way' : `${differences.length} ways`}`);
  return 1;
}

/** Writes through a temporary file in the same folder, renamed into place: never half a lock. */
function writeAtomically(target: string, content: string): void {
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, content, { flag: 'wx' });
    renameSync(temporary, target);
  } finally {
    rmSync(temporary, { force: true });
  }
}
