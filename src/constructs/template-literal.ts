/**
 * Literal text in Terraform. In Terraform's JSON syntax (and in HCL's quoted strings) every string is
 * a template: `${...}` interpolates and `%{...}` is a directive. Text that must reach AWS as written,
 * such as the IAM policy variable `${aws:username}` or a description, is escaped (`$${`, `%%{`), and
 * Terraform turns it back into `${` and `%{`.
 *
 * @see https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences
 */
import { Token } from 'cdktf';
import { valuesCheck } from '../iam/rules';

/** The constructs' value check: every rule's message for a prop, none while the prop is a token. */
export const checkResolved = valuesCheck(Token.isUnresolved);

/** `${` -> `$${` and `%{` -> `%%{`: the text Terraform reads back as exactly `text`. */
export function escapeTemplate(text: string): string {
  return text.replace(/[$%]\{/g, (sequence) => `${sequence[0]}${sequence}`);
}

/** The inverse of `escapeTemplate`: what Terraform sends to AWS for an escaped literal. */
export function unescapeTemplate(text: string): string {
  return text.replace(/([$%])\1\{/g, '$1{');
}

/**
 * A literal string for a Terraform argument: escaped, unless it holds a cdktf token (a reference such
 * as `${TfToken[...]}`, whose interpolation must stay live).
 */
export function literal(text: string): string {
  return Token.isUnresolved(text) ? text : escapeTemplate(text);
}

/** `%{` -> `%%{` only: for the literal parts of a `jsonencode(...)`, whose `${` cdktf escapes itself. */
export function escapeDirectives(text: string): string {
  return text.replace(/%\{/g, '%%{');
}

/**
 * A copy of a JSON value with every literal string (keys included) escaped by `escape`; strings and
 * values holding cdktf tokens are left as they are.
 */
export function escapeLiterals<T>(value: T, escape: (text: string) => string = escapeTemplate): T {
  if (Token.isUnresolved(value)) return value;
  if (typeof value === 'string') return escape(value) as T;
  if (Array.isArray(value)) return value.map((item) => escapeLiterals(item, escape)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [escapeLiterals(key, escape), escapeLiterals(item, escape)])) as T;
  }
  return value;
}
