/**
 * A small client of Bitbucket Cloud's REST API 2.0, for resolving the names in a config (workspace,
 * repositories, deployment environments) to the UUIDs that Bitbucket puts in its OIDC tokens.
 *
 * It only reads: `GET /workspaces/{workspace}`, `GET /repositories/{workspace}/{repo_slug}` and the
 * paginated `GET /repositories/{workspace}/{repo_slug}/environments`. The environments endpoint cannot
 * filter by name (BCLOUD-22285, closed as Won't Fix), so every page is read and the caller picks.
 *
 * Secrets: the token (and the Basic credentials built from it) go into the `Authorization` header and
 * nowhere else. No message, error or retry notice carries them; any text that comes back from the
 * network is scrubbed of them before it is shown.
 *
 * The record shapes below follow Atlassian's reference and the shapes published client code and
 * fixtures rely on; they are not generated from Atlassian's OpenAPI document, so every field this
 * project does not need is optional, and unknown fields are ignored.
 *
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/intro/
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-workspaces/#api-workspaces-workspace-get
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-repo-slug-get
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-deployments/#api-repositories-workspace-repo-slug-environments-get
 */

/** Bitbucket Cloud's REST API 2.0. `BITBUCKET_API_URL` may replace it: reading that is the caller's business. */
export const DEFAULT_BITBUCKET_API_URL = 'https://api.bitbucket.org/2.0';

/** The day Atlassian removed app passwords for good (no new ones since 9 September 2025). */
export const APP_PASSWORDS_REMOVED_ON = '28 July 2026';

/**
 * An Atlassian API token, sent with HTTP Basic auth as `email:apiToken`.
 * @see https://support.atlassian.com/bitbucket-cloud/docs/using-api-tokens/
 */
export interface ApiTokenAuth {
  /** The email address of the Atlassian account the token belongs to (not the Bitbucket username). */
  readonly email: string;
  /** The API token, e.g. with the scopes `read:workspace:bitbucket` and `read:repository:bitbucket`. */
  readonly apiToken: string;
}

/**
 * A repository, project or workspace access token, sent as `Authorization: Bearer <token>`.
 * @see https://support.atlassian.com/bitbucket-cloud/docs/access-tokens/
 */
export interface AccessTokenAuth {
  /** The access token. */
  readonly accessToken: string;
}

/** How the client authenticates: an API token with the account's email (Basic), or an access token (Bearer). */
export type BitbucketAuth = ApiTokenAuth | AccessTokenAuth;

/** The three deployment environment types, in the order Bitbucket requires deployment steps to run. */
export const ENVIRONMENT_TYPE_NAMES = ['Test', 'Staging', 'Production'] as const;

/** A deployment environment type's name. */
export type EnvironmentTypeName = (typeof ENVIRONMENT_TYPE_NAMES)[number];

/**
 * A workspace, as `GET /workspaces/{workspace}` returns it (the fields this project reads).
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-workspaces/#api-workspaces-workspace-get
 */
export interface BitbucketWorkspace {
  /** The workspace UUID in braces, as Bitbucket returns it, e.g. `{1de489be-...}`. */
  readonly uuid: string;
  /** The workspace ID (slug), e.g. `acme`. */
  readonly slug: string;
  /** The display name. @default - absent when Bitbucket leaves it out */
  readonly name?: string;
}

/**
 * A repository, as `GET /repositories/{workspace}/{repo_slug}` returns it (the fields this project reads).
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-repo-slug-get
 */
export interface BitbucketRepository {
  /** The repository UUID in braces, as Bitbucket returns it. */
  readonly uuid: string;
  /** The repository slug, e.g. `web`. */
  readonly slug: string;
  /** The display name. @default - absent when Bitbucket leaves it out */
  readonly name?: string;
  /** `workspace/slug`, e.g. `acme/web`. @default - absent when Bitbucket leaves it out */
  readonly full_name?: string;
  /** The workspace the repository belongs to. @default - absent when Bitbucket leaves it out */
  readonly workspace?: { readonly uuid?: string; readonly slug?: string };
}

/** A deployment environment's type: Test, Staging or Production, with Bitbucket's rank (0, 1, 2). */
export interface BitbucketEnvironmentType {
  /** `Test`, `Staging` or `Production`. */
  readonly name: EnvironmentTypeName;
  /** 0 for Test, 1 for Staging, 2 for Production. @default - absent when Bitbucket leaves it out */
  readonly rank?: number;
}

/**
 * A deployment environment, one value of `GET /repositories/{workspace}/{repo_slug}/environments`.
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-deployments/#api-repositories-workspace-repo-slug-environments-get
 */
export interface BitbucketEnvironment {
  /** The environment UUID in braces, as Bitbucket returns it (and puts in a deployment step's token). */
  readonly uuid: string;
  /** The display name, e.g. `Production`; Bitbucket keeps names unique within a repository. */
  readonly name: string;
  /** The slug, e.g. `production`. @default - absent when Bitbucket leaves it out */
  readonly slug?: string;
  /** The environment's position within its type. @default - absent when Bitbucket leaves it out */
  readonly rank?: number;
  /**
   * The environment's type. @default - absent when Bitbucket leaves it out or names a type other than
   * Test, Staging or Production
   */
  readonly environment_type?: BitbucketEnvironmentType;
}

/** What went wrong, for callers that decide by kind rather than by status. */
export type BitbucketApiErrorCode =
  | 'missing-credentials'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'rate-limited'
  | 'server-error'
  | 'http-error'
  | 'network-error'
  | 'timeout'
  | 'invalid-response'
  | 'invalid-options';

/**
 * The one error this module throws. Its message says what to do; it carries the HTTP status and the
 * URL of the request (without credentials), never a token or an `Authorization` header.
 */
export class BitbucketApiError extends Error {
  /** What went wrong. */
  readonly code: BitbucketApiErrorCode;
  /** The HTTP status of Bitbucket's answer; undefined when there was none (network error, timeout, missing credentials). */
  readonly status: number | undefined;
  /** The URL of the request, without user info; undefined for errors found before any request. */
  readonly url: string | undefined;
  /** Bitbucket's own message, from `{"type": "error", "error": {"message": ...}}`, when it sent one. */
  readonly bitbucketMessage: string | undefined;

  /** @internal Use the client or `authFromEnv`, which build these. */
  constructor(
    code: BitbucketApiErrorCode,
    message: string,
    details: { readonly status?: number; readonly url?: string; readonly bitbucketMessage?: string } = {},
  ) {
    super(message);
    this.name = 'BitbucketApiError';
    this.code = code;
    this.status = details.status;
    this.url = details.url;
    this.bitbucketMessage = details.bitbucketMessage;
  }
}

/** A retry the client is about to make, for a caller that wants to say why it waits. Holds no secret. */
export interface BitbucketRetryNotice {
  /** The URL being retried, without user info. */
  readonly url: string;
  /** Why: Bitbucket answered 429 or 5xx, or the request failed on the network or timed out. */
  readonly reason: 'rate-limited' | 'server-error' | 'network-error' | 'timeout';
  /** The HTTP status, when there was an answer. */
  readonly status?: number;
  /** 1 for the first retry. */
  readonly attempt: number;
  /** How long the client waits before the retry, in milliseconds. */
  readonly delayMs: number;
}

/** The fetch the client calls: node's global `fetch` or a stand-in with the same shape. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Options of `BitbucketApiClient`. */
export interface BitbucketApiClientOptions {
  /** The credentials. Build them from the environment with `authFromEnv`. */
  readonly auth: BitbucketAuth;
  /** The API's base URL, e.g. from `BITBUCKET_API_URL`. @default DEFAULT_BITBUCKET_API_URL */
  readonly baseUrl?: string;
  /** The fetch to call. @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /** How long one request may take, in milliseconds (AbortSignal.timeout). @default 15000 */
  readonly timeoutMs?: number;
  /** How many times a 429 is retried, waiting as `Retry-After` says. @default 3 */
  readonly rateLimitRetries?: number;
  /** The longest `Retry-After` the client waits, in seconds; a longer one fails at once. @default 60 */
  readonly maxRetryAfterSeconds?: number;
  /** How many times a network error, a timeout or a 5xx answer is retried. @default 2 */
  readonly networkRetries?: number;
  /** Waits before a retry. Tests inject one that returns at once. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The clock, for `Retry-After` given as an HTTP date. @default Date.now */
  readonly now?: () => number;
  /** The most pages of one listing the client reads before it gives up. @default 50 */
  readonly maxPages?: number;
  /** `pagelen` asked of paginated endpoints. @default - Bitbucket's default (10) */
  readonly pagelen?: number;
  /** Told about each retry before the client waits. @default - nobody */
  readonly onRetry?: (notice: BitbucketRetryNotice) => void;
}

/**
 * Reads the credentials from the environment: `BITBUCKET_EMAIL` with `BITBUCKET_API_TOKEN` (Basic), or
 * `BITBUCKET_ACCESS_TOKEN` (Bearer). Throws a `BitbucketApiError` (code `missing-credentials`) that
 * names the variable to set when one is missing, when both kinds are given, or when only an app
 * password (`BITBUCKET_APP_PASSWORD`) is: Atlassian removed app passwords on 28 July 2026.
 *
 * @see https://support.atlassian.com/bitbucket-cloud/docs/using-api-tokens/
 * @see https://support.atlassian.com/bitbucket-cloud/docs/access-tokens/
 */
export function authFromEnv(env: Readonly<Record<string, string | undefined>>): BitbucketAuth {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const email = read('BITBUCKET_EMAIL');
  const apiToken = read('BITBUCKET_API_TOKEN');
  const accessToken = read('BITBUCKET_ACCESS_TOKEN');
  const appPassword = read('BITBUCKET_APP_PASSWORD');
  const fail = (message: string): never => {
    throw new BitbucketApiError('missing-credentials', message);
  };
  const howToGetOne =
    'Create an API token with scopes at https://id.atlassian.com/manage-profile/security/api-tokens and set BITBUCKET_EMAIL ' +
    '(your Atlassian account email) and BITBUCKET_API_TOKEN, or set BITBUCKET_ACCESS_TOKEN to a repository, project or ' +
    'workspace access token.';

  if (accessToken !== undefined && (email !== undefined || apiToken !== undefined)) {
    fail(
      'Both BITBUCKET_ACCESS_TOKEN and BITBUCKET_EMAIL/BITBUCKET_API_TOKEN are set: set only one kind of Bitbucket credentials, ' +
        'an API token with its email (Basic auth) or an access token (Bearer).',
    );
  }
  if (accessToken !== undefined) return { accessToken };
  if (email !== undefined && apiToken !== undefined) {
    if (!email.includes('@')) {
      fail(
        'BITBUCKET_EMAIL is not an email address: API tokens authenticate with the email of the Atlassian account the token ' +
          'belongs to, not with the Bitbucket username.',
      );
    }
    return { email, apiToken };
  }
  if (email !== undefined) {
    fail(`BITBUCKET_EMAIL is set but BITBUCKET_API_TOKEN is not: set BITBUCKET_API_TOKEN to an Atlassian API token. ${howToGetOne}`);
  }
  if (apiToken !== undefined) {
    fail(
      'BITBUCKET_API_TOKEN is set but BITBUCKET_EMAIL is not: set BITBUCKET_EMAIL to the email of the Atlassian account ' +
        'the API token belongs to (API tokens use Basic auth with that email).',
    );
  }
  if (appPassword !== undefined) {
    fail(
      `BITBUCKET_APP_PASSWORD is set, but Bitbucket app passwords were removed on ${APP_PASSWORDS_REMOVED_ON} and no longer ` +
        `authenticate: an API token is needed. ${howToGetOne}`,
    );
  }
  return fail(`No Bitbucket credentials are set. ${howToGetOne}`);
}

/** The scopes a read-only token needs for each call, as far as Atlassian's reference says. */
const SCOPE_HINTS = {
  workspace: 'read:workspace:bitbucket',
  repository: 'read:repository:bitbucket',
  environments: 'read:pipeline:bitbucket',
} as const;

/** What a request asks for, to name it in a 404 or 403. */
interface Subject {
  readonly kind: keyof typeof SCOPE_HINTS;
  /** e.g. `workspace "acme"`, `repository "acme/web"`. */
  readonly description: string;
}

/**
 * A client of Bitbucket's REST API 2.0 for resolving names to UUIDs. Every method retries a 429 after
 * `Retry-After` and a network error, timeout or 5xx with a short back-off, each a bounded number of
 * times, and throws a `BitbucketApiError` that says what to do.
 *
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/intro/
 */
export class BitbucketApiClient {
  private readonly baseUrl: URL;
  private readonly authorization: string;
  private readonly secrets: readonly string[];
  private readonly authKind: 'api-token' | 'access-token';
  private readonly fetchFn: FetchLike;
  private readonly timeoutMs: number;
  private readonly rateLimitRetries: number;
  private readonly maxRetryAfterSeconds: number;
  private readonly networkRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly maxPages: number;
  private readonly pagelen: number | undefined;
  private readonly onRetry: ((notice: BitbucketRetryNotice) => void) | undefined;

  /** Builds a client; it makes no request until a method is called. */
  constructor(options: BitbucketApiClientOptions) {
    const base = options.baseUrl ?? DEFAULT_BITBUCKET_API_URL;
    let parsed: URL;
    try {
      parsed = new URL(base.endsWith('/') ? base : `${base}/`);
    } catch {
      throw new BitbucketApiError(
        'invalid-options',
        `The Bitbucket API URL is not a URL: set BITBUCKET_API_URL to e.g. ${DEFAULT_BITBUCKET_API_URL}`,
      );
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new BitbucketApiError('invalid-options', `The Bitbucket API URL must be http(s): ${stripUserInfo(parsed)}`);
    }
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    this.baseUrl = parsed;
    if ('accessToken' in options.auth) {
      this.authKind = 'access-token';
      this.authorization = `Bearer ${options.auth.accessToken}`;
      this.secrets = [options.auth.accessToken];
    } else {
      this.authKind = 'api-token';
      const basic = Buffer.from(`${options.auth.email}:${options.auth.apiToken}`, 'utf8').toString('base64');
      this.authorization = `Basic ${basic}`;
      this.secrets = [options.auth.apiToken, basic];
    }
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.rateLimitRetries = options.rateLimitRetries ?? 3;
    this.maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 60;
    this.networkRetries = options.networkRetries ?? 2;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    this.maxPages = options.maxPages ?? 50;
    this.pagelen = options.pagelen;
    this.onRetry = options.onRetry;
  }

  /**
   * `GET /workspaces/{workspace}`: the workspace's UUID (in braces), slug and name.
   * @param workspace the workspace ID (slug), e.g. `acme`, or its UUID in braces
   * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-workspaces/#api-workspaces-workspace-get
   */
  async getWorkspace(workspace: string): Promise<BitbucketWorkspace> {
    const subject: Subject = { kind: 'workspace', description: `workspace "${workspace}"` };
    const url = this.url(`workspaces/${encodeURIComponent(workspace)}`);
    const body = await this.getJson(url, subject);
    const uuid = stringField(body, 'uuid');
    const slug = stringField(body, 'slug');
    if (uuid === undefined || slug === undefined) throw this.invalid(url, 'a workspace without uuid or slug');
    return withOptional({ uuid, slug }, { name: stringField(body, 'name') });
  }

  /**
   * `GET /repositories/{workspace}/{repo_slug}`: the repository's UUID (in braces), slug, name, full name
   * and workspace.
   * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-repo-slug-get
   */
  async getRepository(workspace: string, slug: string): Promise<BitbucketRepository> {
    const subject: Subject = { kind: 'repository', description: `repository "${workspace}/${slug}"` };
    const url = this.url(`repositories/${encodeURIComponent(workspace)}/${encodeURIComponent(slug)}`);
    const body = await this.getJson(url, subject);
    const uuid = stringField(body, 'uuid');
    const repoSlug = stringField(body, 'slug');
    if (uuid === undefined || repoSlug === undefined) throw this.invalid(url, 'a repository without uuid or slug');
    const ws = body.workspace;
    const owner = isRecord(ws) ? withOptional({}, { uuid: stringField(ws, 'uuid'), slug: stringField(ws, 'slug') }) : undefined;
    return withOptional(
      { uuid, slug: repoSlug },
      { name: stringField(body, 'name'), full_name: stringField(body, 'full_name'), workspace: owner },
    );
  }

  /**
   * `GET /repositories/{workspace}/{repo_slug}/environments`, every page: follows `next` until it is
   * absent, at most `maxPages` pages, and only to the API's own origin.
   * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-deployments/#api-repositories-workspace-repo-slug-environments-get
   * @see https://developer.atlassian.com/cloud/bitbucket/rest/intro/#pagination
   */
  async listEnvironments(workspace: string, slug: string): Promise<BitbucketEnvironment[]> {
    const subject: Subject = { kind: 'environments', description: `the deployment environments of repository "${workspace}/${slug}"` };
    const first = this.url(`repositories/${encodeURIComponent(workspace)}/${encodeURIComponent(slug)}/environments`);
    if (this.pagelen !== undefined) first.searchParams.set('pagelen', String(this.pagelen));
    const environments: BitbucketEnvironment[] = [];
    const seen = new Set<string>();
    let next: URL | undefined = first;
    for (let page = 1; next !== undefined; page++) {
      if (page > this.maxPages || seen.has(next.href)) {
        throw this.invalid(next, `more than ${this.maxPages} pages of environments, or a page that links back to an earlier one`);
      }
      seen.add(next.href);
      const current: URL = next;
      const body = await this.getJson(current, subject);
      if (!Array.isArray(body.values)) throw this.invalid(current, 'a page without a "values" list');
      for (const value of body.values) environments.push(this.environment(current, value));
      next = body.next === undefined || body.next === null ? undefined : this.nextPage(current, body.next);
    }
    return environments;
  }

  private environment(url: URL, value: unknown): BitbucketEnvironment {
    if (!isRecord(value)) throw this.invalid(url, 'an environment that is not an object');
    const uuid = stringField(value, 'uuid');
    const name = stringField(value, 'name');
    if (uuid === undefined || name === undefined) throw this.invalid(url, 'an environment without uuid or name');
    const type = value.environment_type;
    const typeName = isRecord(type) ? stringField(type, 'name') : undefined;
    const environmentType =
      isRecord(type) && isEnvironmentTypeName(typeName) ? withOptional({ name: typeName }, { rank: numberField(type, 'rank') }) : undefined;
    return withOptional(
      { uuid, name },
      { slug: stringField(value, 'slug'), rank: numberField(value, 'rank'), environment_type: environmentType },
    );
  }

  /** The `next` link of a page, refused unless it stays on the API's origin (the token goes with it). */
  private nextPage(current: URL, next: unknown): URL {
    if (typeof next !== 'string') throw this.invalid(current, 'a "next" link that is not a string');
    let url: URL;
    try {
      url = new URL(next, current);
    } catch {
      throw this.invalid(current, 'a "next" link that is not a URL');
    }
    if (url.origin !== this.baseUrl.origin || url.username !== '' || url.password !== '') {
      throw this.invalid(current, `a "next" link to another origin (${url.origin}), which the client does not send the token to`);
    }
    return url;
  }

  private url(path: string): URL {
    return new URL(path, this.baseUrl);
  }

  /** One GET with the retries; resolves with the JSON object of a 2xx answer. */
  private async getJson(url: URL, subject: Subject): Promise<Record<string, unknown>> {
    const shown = stripUserInfo(url);
    let rateLimited = 0;
    let failed = 0;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchFn(url.href, {
          method: 'GET',
          headers: { Accept: 'application/json', Authorization: this.authorization },
          redirect: 'manual', // a redirect is reported, not followed with the token
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        const timedOut = isTimeout(error);
        if (failed < this.networkRetries) {
          failed++;
          await this.wait({ url: shown, reason: timedOut ? 'timeout' : 'network-error', attempt, delayMs: backoff(failed) });
          continue;
        }
        const tries = `${failed + 1} attempt${failed === 0 ? '' : 's'}`;
        if (timedOut) {
          throw new BitbucketApiError(
            'timeout',
            this.scrub(`GET ${shown} timed out after ${this.timeoutMs} ms (${tries}). Check the network, or BITBUCKET_API_URL.`),
            { url: shown },
          );
        }
        throw new BitbucketApiError(
          'network-error',
          this.scrub(`GET ${shown} failed: ${describeNetworkError(error)} (${tries}). Check the network, or BITBUCKET_API_URL.`),
          { url: shown },
        );
      }

      if (response.ok) {
        const text = await this.readText(response, url);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw this.invalid(url, 'an answer that is not JSON');
        }
        if (!isRecord(body)) throw this.invalid(url, 'an answer that is not a JSON object');
        return body;
      }

      const status = response.status;
      if (status >= 300 && status < 400) {
        await response.body?.cancel().catch(() => undefined);
        throw this.redirected(status, shown, subject, response.headers.get('location'));
      }
      if (status === 429 && rateLimited < this.rateLimitRetries) {
        const delayMs = this.retryAfterMs(response.headers.get('retry-after'), rateLimited + 1);
        if (delayMs !== undefined) {
          await response.body?.cancel().catch(() => undefined);
          rateLimited++;
          await this.wait({ url: shown, reason: 'rate-limited', status, attempt, delayMs });
          continue;
        }
      }
      if (status >= 500 && failed < this.networkRetries) {
        await response.body?.cancel().catch(() => undefined);
        failed++;
        await this.wait({ url: shown, reason: 'server-error', status, attempt, delayMs: backoff(failed) });
        continue;
      }
      const text = await this.readText(response, url).catch(() => '');
      throw this.httpError(status, shown, subject, parseErrorBody(text), response.headers.get('retry-after'), rateLimited);
    }
  }

  private async readText(response: Response, url: URL): Promise<string> {
    try {
      return await response.text();
    } catch (error) {
      const kind = isTimeout(error) ? 'timeout' : 'network-error';
      const shown = stripUserInfo(url);
      const message = `GET ${shown}: reading the answer failed (${describeNetworkError(error)}).`;
      throw new BitbucketApiError(kind, this.scrub(message), { url: shown, status: response.status });
    }
  }

  /** The wait a 429 asks for, in ms; undefined when it is longer than `maxRetryAfterSeconds`. */
  private retryAfterMs(header: string | null, retry: number): number | undefined {
    const limitMs = this.maxRetryAfterSeconds * 1000;
    let ms: number;
    const value = header?.trim() ?? '';
    if (/^\d+$/.test(value)) {
      ms = Number(value) * 1000;
    } else if (value !== '' && !Number.isNaN(Date.parse(value))) {
      ms = Math.max(0, Date.parse(value) - this.now());
    } else {
      ms = backoff(retry); // no (or an unreadable) Retry-After: back off 1 s, 2 s, 4 s ...
    }
    return ms > limitMs ? undefined : ms;
  }

  private async wait(notice: BitbucketRetryNotice): Promise<void> {
    this.onRetry?.(notice);
    await this.sleep(notice.delayMs);
  }

  private httpError(
    status: number,
    url: string,
    subject: Subject,
    bitbucket: BitbucketErrorBody,
    retryAfter: string | null,
    rateLimited: number,
  ): BitbucketApiError {
    const said = bitbucket.message === undefined ? '' : ` Bitbucket said: "${bitbucket.message}".`;
    const details = { status, url, ...(bitbucket.message === undefined ? {} : { bitbucketMessage: this.scrub(bitbucket.message) }) };
    const make = (code: BitbucketApiErrorCode, text: string): BitbucketApiError => new BitbucketApiError(code, this.scrub(text), details);
    switch (status) {
      case 401:
        return make(
          'unauthorized',
          `Bitbucket refused the token (401) for GET ${url}.${said} ${
            this.authKind === 'api-token'
              ? 'Check that BITBUCKET_API_TOKEN is a valid, unexpired Atlassian API token and that BITBUCKET_EMAIL is the email of ' +
                'the account it belongs to.'
              : 'Check that BITBUCKET_ACCESS_TOKEN is a valid access token that has not been revoked or expired.'
          } App passwords were removed on ${APP_PASSWORDS_REMOVED_ON} and no longer work.`,
        );
      case 403: {
        const scopes = missingScopes(bitbucket);
        const scopeText =
          scopes.length > 0
            ? `The token lacks the scope ${scopes.map((scope) => `"${scope}"`).join(', ')}: create a token that has it.`
            : `The token may lack a scope (this call needs ${SCOPE_HINTS[subject.kind]}), or its account may lack access to ` +
              `${subject.description}.`;
        return make('forbidden', `Bitbucket denied access (403) to ${subject.description}: GET ${url}.${said} ${scopeText}`);
      }
      case 404:
        return make(
          'not-found',
          `Bitbucket found no ${subject.description.replace(/^the /, '')} (404): GET ${url}.${said} Check the name in the config, ` +
            'and that the token can see it (Bitbucket answers 404 for what a token may not read).',
        );
      case 429: {
        const why =
          rateLimited > 0
            ? `still rate limited after ${rateLimited} ${rateLimited === 1 ? 'retry' : 'retries'}`
            : `rate limited, and Retry-After (${retryAfter ?? 'absent'}) is longer than ${this.maxRetryAfterSeconds} s`;
        return make('rate-limited', `Bitbucket is rate limiting this client (429) for GET ${url}: ${why}. Wait and run again.${said}`);
      }
      default:
        return make(
          status >= 500 ? 'server-error' : 'http-error',
          `Bitbucket answered ${status} for GET ${url}.${said}${status >= 500 ? ' Try again later.' : ''}`,
        );
    }
  }

  private redirected(status: number, url: string, subject: Subject, location: string | null): BitbucketApiError {
    let target = 'elsewhere';
    if (location !== null) {
      try {
        target = stripUserInfo(new URL(location, url));
      } catch {
        target = 'an unreadable location';
      }
    }
    return new BitbucketApiError(
      'http-error',
      this.scrub(
        `Bitbucket redirected GET ${url} (${status}) to ${target}, which the client does not follow with the token: ` +
          `${subject.description} may have been renamed or moved; use its current name, or check BITBUCKET_API_URL.`,
      ),
      { status, url },
    );
  }

  private invalid(url: URL, what: string): BitbucketApiError {
    const shown = stripUserInfo(url);
    return new BitbucketApiError(
      'invalid-response',
      this.scrub(`GET ${shown}: Bitbucket sent ${what}. Is BITBUCKET_API_URL the REST API 2.0 (e.g. ${DEFAULT_BITBUCKET_API_URL})?`),
      { url: shown },
    );
  }

  /** Replaces every secret in text that reached us from outside (an error body, a URL, a network error). */
  private scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (secret.length > 0) out = out.split(secret).join('***');
    return out;
  }
}

interface BitbucketErrorBody {
  readonly message?: string;
  readonly detail?: unknown;
}

/** Reads `{"type": "error", "error": {"message": ..., "detail": ...}}`; anything else gives an empty record. */
function parseErrorBody(text: string): BitbucketErrorBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {};
  }
  if (!isRecord(body) || !isRecord(body.error)) return {};
  const message = stringField(body.error, 'message');
  return withOptional({}, { message: message?.slice(0, 500), detail: body.error.detail });
}

/**
 * The scopes a 403 names: `error.detail.required` when Bitbucket lists it (its privilege-scope answer is
 * "Your credentials lack one or more required privilege scopes." with `detail: {required, granted}`),
 * else scope names such as `read:repository:bitbucket` written in the message.
 */
function missingScopes(body: BitbucketErrorBody): string[] {
  const found: string[] = [];
  const detail = body.detail;
  if (isRecord(detail) && Array.isArray(detail.required)) {
    for (const scope of detail.required) if (typeof scope === 'string') found.push(scope);
  }
  if (found.length === 0 && body.message !== undefined) {
    for (const match of body.message.matchAll(/\b(?:read|write|admin|delete):[a-z-]+:bitbucket\b/g)) found.push(match[0]);
  }
  return [...new Set(found)];
}

function backoff(retry: number): number {
  return 1000 * 2 ** (retry - 1);
}

/** Error-like, by shape: fetch's errors may come from another realm (e.g. under Jest), where instanceof fails. */
function errorLike(value: unknown): { readonly name: string; readonly message: string; readonly cause?: unknown } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, message } = value as { name?: unknown; message?: unknown };
  return typeof name === 'string' && typeof message === 'string' ? (value as { name: string; message: string }) : undefined;
}

function isTimeout(error: unknown): boolean {
  const like = errorLike(error);
  return like !== undefined && (like.name === 'TimeoutError' || like.name === 'AbortError');
}

/** `fetch failed (ECONNREFUSED)`: the error's message and its cause's code, never the request. */
function describeNetworkError(error: unknown): string {
  const like = errorLike(error);
  if (like === undefined) return 'unknown error';
  const cause = like.cause;
  const code = isRecord(cause) && typeof cause.code === 'string' ? cause.code : undefined;
  const extra = code ?? errorLike(cause)?.message;
  return extra === undefined || extra === like.message ? like.message : `${like.message} (${extra})`;
}

function stripUserInfo(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEnvironmentTypeName(value: string | undefined): value is EnvironmentTypeName {
  return (ENVIRONMENT_TYPE_NAMES as readonly (string | undefined)[]).includes(value);
}

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

function numberField(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `base` plus the optional fields that are defined, so records hold no `undefined` values. */
function withOptional<T extends object, O extends Record<string, unknown>>(base: T, optional: O): T & Partial<O> {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) out[key] = value;
  return out as T & Partial<O>;
}
