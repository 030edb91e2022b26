/** Test support: a configuration's validation problems, as data, instead of a thrown ConfigError. */
import { ConfigError, ConfigProblem, validateConfig } from '../../src/config/validate';

/** Every problem `validateConfig` reports for `config` (policy files read from `baseDir`), or [] when it is valid. */
export function configProblems(config: unknown, baseDir?: string): ConfigProblem[] {
  try {
    validateConfig(config, 'test.json', baseDir);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}
