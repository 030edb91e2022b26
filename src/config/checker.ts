/** Reads a configuration's JSON field by field, collecting every problem (and warning) on the way. */
import { BITBUCKET_RULES, normaliseUuid } from '../bitbucket/protocol';
import { join, LIMITS, quote as show, RULES, ValueRule, violation } from '../iam/rules';
import { fieldNames, ObjectSpec } from './fields';
import { unknownField } from './suggestions';

/** One problem of a configuration. */
export interface ConfigProblem {
  /** Where, e.g. `accounts[0].roles[1].name` (empty for the whole file). */
  readonly path: string;
  /** The full message, starting with the path. */
  readonly message: string;
}

export type JsonObject = Record<string, unknown>;

/** Collects problems while reading a JSON value field by field. */
export class Checker {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];

  fail(path: string, message: string): undefined {
    this.problems.push({ path, message: path === '' ? message : `${path}: ${message}` });
    return undefined;
  }

  /**
   * Reads an object with known fields; reports a wrong type, missing required fields and unknown
   * fields (a misspelt field must never silently drop a restriction). Keys starting with `//` are
   * comments and ignored.
   */
  object(
    path: string,
    value: unknown,
    required: readonly string[],
    optional: readonly string[],
    examples: Record<string, string> = {},
  ): JsonObject | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail(path, `${show(value)} must be an object with ${required.map((k) => `"${k}"`).join(', ')}`);
    }
    const known = [...required, ...optional];
    const object = value as JsonObject;
    for (const key of Object.keys(object)) {
      if (known.includes(key) || key.startsWith('//')) continue;
      this.fail(join(path, key), unknownField(key, known));
    }
    for (const key of required) {
      if (object[key] === undefined) {
        this.fail(join(path, key), `is required${examples[key] === undefined ? '' : `, e.g. ${examples[key]}`}`);
      }
    }
    return object;
  }

  /** Reads an object whose fields `spec` declares (`fields.ts`); `alsoKnown` are fields read apart. */
  fields(path: string, value: unknown, spec: ObjectSpec, alsoKnown: readonly string[] = []): JsonObject | undefined {
    const { required, optional, examples } = fieldNames(spec);
    return this.object(path, value, required, [...optional, ...alsoKnown], examples);
  }

  /** Reads a string and checks it against a rule. */
  string(path: string, value: unknown, rule?: ValueRule): string | undefined {
    if (typeof value !== 'string') {
      return this.fail(path, `${show(value)} must be a string${rule === undefined ? '' : `, e.g. ${JSON.stringify(rule.example)}`}`);
    }
    if (rule !== undefined && !rule.test(value)) return this.fail(path, violation(value, rule));
    return value;
  }

  optionalString(path: string, value: unknown, rule?: ValueRule): string | undefined {
    return value === undefined ? undefined : this.string(path, value, rule);
  }

  uuid(path: string, value: unknown): string | undefined {
    const text = this.string(path, value, BITBUCKET_RULES.uuid);
    if (text === undefined) return undefined;
    // The rule and normaliseUuid must agree; if they ever do not, the value is refused, never dropped.
    return normaliseUuid(text) ?? this.fail(path, violation(text, BITBUCKET_RULES.uuid));
  }

  boolean(path: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.fail(path, `${show(value)} must be true or false (not a string)`);
      return fallback;
    }
    return value;
  }

  integer(path: string, value: unknown, min: number, max: number, fallback: number, unit: string): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `${show(value)} must be a whole number of ${unit} from ${min} to ${max}, e.g. ${fallback}`);
      return fallback;
    }
    return value;
  }

  /** Reads a list; `undefined` stays undefined (the caller applies the default). */
  list(path: string, value: unknown, options: { min?: number; max?: number; what: string } = { what: 'entries' }): unknown[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) return this.fail(path, `${show(value)} must be a list of ${options.what}`);
    if (options.min !== undefined && value.length < options.min) {
      return this.fail(path, `must list at least ${options.min} ${options.what}`);
    }
    if (options.max !== undefined && value.length > options.max) {
      this.fail(path, `${value.length} ${options.what} must be at most ${options.max}`);
    }
    return value;
  }

  /** Reads a list of strings that each satisfy a rule, reporting duplicates. */
  strings(
    path: string,
    value: unknown,
    rule: ValueRule,
    options: { min?: number; max?: number; what: string; normalise?: (s: string) => string },
  ): string[] {
    const items = this.list(path, value, options) ?? [];
    const result: string[] = [];
    items.forEach((item, i) => {
      const text = this.string(join(path, i), item, rule);
      if (text === undefined) return;
      const normalised = options.normalise === undefined ? text : options.normalise(text);
      if (result.includes(normalised)) {
        this.fail(join(path, i), `${show(item)} is listed twice; each of the ${options.what} must appear once`);
        return;
      }
      result.push(normalised);
    });
    return result;
  }

  tags(path: string, value: unknown): Record<string, string> {
    if (value === undefined) return {};
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `${show(value)} must be an object of tag names to string values, e.g. {"team": "platform"}`);
      return {};
    }
    const entries = Object.entries(value as JsonObject);
    if (entries.length > LIMITS.tagsPerRole) this.fail(path, `${entries.length} tags must be at most ${LIMITS.tagsPerRole}`);
    const tags: Record<string, string> = {};
    for (const [key, tagValue] of entries) {
      if (!RULES.tagKey.test(key)) {
        this.fail(path, `tag name ${violation(key, RULES.tagKey)}`);
        continue;
      }
      const text = this.string(join(path, key), tagValue, RULES.tagValue);
      if (text !== undefined) tags[key] = text;
    }
    return tags;
  }
}
