/**
 * Finds and reads the configuration: the JSON file named by `BITBUCKET_OIDC_CONFIG`, else the
 * bundled example (which is impossible to apply: its accounts are AWS's documentation accounts).
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { parseJson } from './json';
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

/** Reads and validates the configuration file at `file`. */
export function readConfigFile(file: string): ValidationResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(file, [
      { path: '', message: `cannot be read (${code}); set ${CONFIG_ENV_VAR} to the path of your configuration file` },
    ]);
  }
  return validateConfig(parseConfigJson(text, file), file, path.dirname(file));
}

/** Loads the configuration named by the environment (or the bundled example). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LoadedConfig {
  const { file, isExample } = configPath(env, cwd);
  return { ...readConfigFile(file), file, isExample };
}
