/**
 * Finds and reads the configuration: the JSON file named by `BITBUCKET_OIDC_CONFIG`, else the
 * bundled example (which is impossible to apply: its accounts are AWS's documentation accounts).
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { parseJson } from './json';
import { LockFileError, lockPathFor, readLockFor, RESOLVE_COMMAND } from './lock';
import { LockNames } from './names';
import { ConfigError, validateConfig, ValidationResult } from './validate';

/** The environment variable naming the configuration file. */
export const CONFIG_ENV_VAR = 'BITBUCKET_OIDC_CONFIG';

/**
 * The bundled example configuration. This module runs from `src/config/` (tests) or is bundled into
 * `dist/` (synth), so the project root is the nearest folder above that has `config/example.json`.
 */
export const EXAMPLE_CONFIG = findExample(__dirname);

function findExample(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'config', 'example.json');
    if (existsSync(candidate) || path.dirname(dir) === dir) return candidate;
  }
}

/** A loaded configuration and where it came from. */
export interface LoadedConfig extends ValidationResult {
  /** The file read. */
  readonly file: string;
  /** True when `BITBUCKET_OIDC_CONFIG` was unset and the bundled example was used. */
  readonly isExample: boolean;
}

/** Which file to read, from the environment; relative paths are taken from `cwd`. */
export function configPath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): { file: string; isExample: boolean } {
  const named = env[CONFIG_ENV_VAR];
  if (named === undefined || named.trim() === '') return { file: EXAMPLE_CONFIG, isExample: true };
  return { file: path.resolve(cwd, named), isExample: false };
}

/** Parses the configuration's JSON, turning a syntax error into a `ConfigError` with line and column. */
export function parseConfigJson(text: string, source: string): unknown {
  try {
    return parseJson(text);
  } catch (error) {
    throw new ConfigError(source, [{ path: '', message: (error as Error).message }]);
  }
}

/**
 * Reads the lock file beside `file` (`acme.json` -> `acme.lock.json`) when there is one, refusing one
 * that is not a lock or belongs to another configuration.
 */
export function lockNamesFor(file: string, cwd = process.cwd()): LockNames {
  const lockFile = lockPathFor(file);
  const shown = path.relative(cwd, lockFile) || lockFile;
  try {
    return new LockNames(readLockFor(file), shown);
  } catch (error) {
    if (!(error instanceof LockFileError)) throw error;
    throw new ConfigError(shown, [
      ...error.problems.map((p) => ({ ...p, message: `${p.message}; run ${RESOLVE_COMMAND} to write it again` })),
    ]);
  }
}

/**
 * Reads and validates the configuration file at `file`, with the names of its lock file.
 * @param cwd what messages show the lock file's path relative to
 */
export function readConfigFile(file: string, cwd = process.cwd()): ValidationResult {
  return validateConfig(readConfigInput(file), file, path.dirname(file), lockNamesFor(file, cwd));
}

/**
 * Reads and parses the configuration file at `file`, not yet validated.
 * @param source how messages name the file @default file
 */
export function readConfigInput(file: string, source = file): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(source, [
      { path: '', message: `cannot be read (${code}); set ${CONFIG_ENV_VAR} to the path of your configuration file` },
    ]);
  }
  return parseConfigJson(text, source);
}

/** Loads the configuration named by the environment (or the bundled example). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LoadedConfig {
  const { file, isExample } = configPath(env, cwd);
  return { ...readConfigFile(file, cwd), file, isExample };
}
