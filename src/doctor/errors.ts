/**
 * The doctor's exit codes and the error that means "this input cannot be judged at all".
 */

/** What the doctor's exit code means. */
export const EXIT = {
  /** At least one checked role admits the token. */
  allowed: 0,
  /** No checked role admits the token (the report says why). */
  denied: 1,
  /** Unusable input: no or malformed token, unreadable file, bad config, unknown role, JWKS unreachable. */
  unusable: 2,
  /** A bug of the doctor itself (an unexpected exception). */
  internal: 3,
} as const;

/**
 * Input the doctor cannot judge (exit 2). The message is one line: what was wrong, the value, and
 * the rule, e.g. `--token-file "t.jwt" cannot be read (ENOENT)`. It never contains the token.
 */
export class UnusableInputError extends Error {
  constructor(
    message: string,
    /** Further lines (e.g. every problem of a configuration), printed after the one-line reason. */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'UnusableInputError';
  }
}
