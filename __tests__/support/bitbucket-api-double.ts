/**
 * A local HTTP double of the three Bitbucket Cloud REST API 2.0 endpoints that resolve names to UUIDs,
 * on 127.0.0.1 and a free port:
 * - `GET /2.0/workspaces/{workspace}`
 * - `GET /2.0/repositories/{workspace}/{repo_slug}`
 * - `GET /2.0/repositories/{workspace}/{repo_slug}/environments` (paged: `pagelen`, `page`, `size`, `values`, `next`)
 *
 * The bodies follow Atlassian's published shapes (the reference's examples, and what client code and
 * fixtures rely on; not Atlassian's OpenAPI document), errors included:
 * `{"type": "error", "error": {"message": ..., "detail": ...}}`. It checks both kinds of credentials:
 * an API token with its account's email (Basic) and an access token (Bearer), and each credential's
 * scopes. It can answer 401, 403, 404, 429 (with `Retry-After`), 5xx, hang, or drop the connection on
 * demand, and records every request without its credentials.
 *
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/intro/#pagination
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-workspaces/#api-workspaces-workspace-get
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-repo-slug-get
 * @see https://developer.atlassian.com/cloud/bitbucket/rest/api-group-deployments/#api-repositories-workspace-repo-slug-environments-get
 */
import * as http from 'http';
import { AddressInfo } from 'net';

/** A deployment environment of the double's world. */
export interface DoubleEnvironment {
  /** UUID in braces, e.g. `{8b0c...}`. */
  uuid: string;
  name: string;
  /** @default - the name, lower case, spaces as `-` */
  slug?: string;
  /** Position within its type. @default - its index among the repository's environments of that type */
  rank?: number;
  type: 'Test' | 'Staging' | 'Production';
}

/** A repository of the double's world. */
export interface DoubleRepository {
  /** UUID in braces. */
  uuid: string;
  slug: string;
  /** @default - the slug */
  name?: string;
  environments: DoubleEnvironment[];
}

/** A workspace of the double's world. */
export interface DoubleWorkspace {
  /** UUID in braces. */
  uuid: string;
  slug: string;
  /** @default - the slug */
  name?: string;
  repositories: DoubleRepository[];
}

/** The scopes each endpoint requires (one scope each). */
export interface DoubleRequiredScopes {
  workspace: string;
  repository: string;
  environments: string;
}

/** Read-only scopes that Atlassian names for API tokens; the environments scope is this project's best reading. */
export const DEFAULT_REQUIRED_SCOPES: DoubleRequiredScopes = {
  workspace: 'read:workspace:bitbucket',
  repository: 'read:repository:bitbucket',
  environments: 'read:pipeline:bitbucket',
};

/** Credentials the double accepts. A credential without `scopes` has every required scope. */
export interface DoubleCredentials {
  apiTokens?: { email: string; apiToken: string; scopes?: string[] }[];
  accessTokens?: { accessToken: string; scopes?: string[] }[];
}

/** One answer given on demand instead of the world's, to the next request(s) whose path matches. */
export type ScriptedAnswer = {
  /** Matched against the request's path (without query), e.g. `/environments`. @default - any path */
  path?: string | RegExp;
  /** How many matching requests get it. @default 1 */
  times?: number;
} & (
  | {
      /** An HTTP error with Bitbucket's error body. */
      status: number;
      /** `error.message`. @default - a message like Bitbucket's for the status */
      message?: string;
      /** `error.detail`. @default - none */
      detail?: unknown;
      /** The `Retry-After` header (seconds or an HTTP date). @default - none */
      retryAfter?: string;
    }
  | {
      /** `hang`: never answer (a timeout); `drop`: close the connection without answering (a network error). */
      fault: 'hang' | 'drop';
    }
);

/** A request as the double saw it, without credentials. */
export interface RecordedRequest {
  method: string;
  /** Path without query, e.g. `/2.0/workspaces/acme`. */
  path: string;
  query: Record<string, string>;
  /** Which kind of `Authorization` header came (`malformed` when neither Basic nor Bearer could be read). */
  auth: 'basic' | 'bearer' | 'none' | 'malformed';
  /** The email of a Basic header (an email is no secret). */
  email?: string;
  /** Whether the credentials matched an accepted one. */
  authenticated: boolean;
  /** The `Accept` header. */
  accept?: string;
  /** The status the double answered, or `hang`/`drop`. */
  outcome: number | 'hang' | 'drop';
}

/** Options of `startBitbucketApiDouble`. */
export interface BitbucketApiDoubleOptions {
  workspaces: DoubleWorkspace[];
  credentials: DoubleCredentials;
  /** `pagelen` when the request gives none (Bitbucket's default is 10). @default 10 */
  defaultPagelen?: number;
  /** @default DEFAULT_REQUIRED_SCOPES */
  requiredScopes?: DoubleRequiredScopes;
}

/** A running double. */
export interface BitbucketApiDouble {
  /** The API's base URL, e.g. `http://127.0.0.1:40123/2.0` (what `BITBUCKET_API_URL` would hold). */
  readonly url: string;
  /** The world it answers from; tests may change it between requests. */
  readonly workspaces: DoubleWorkspace[];
  /** Every request so far, in order. */
  readonly requests: RecordedRequest[];
  /** Queues an answer given on demand, before the world's. */
  script(answer: ScriptedAnswer): void;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Starts the double on 127.0.0.1 and a free port. */
export async function startBitbucketApiDouble(options: BitbucketApiDoubleOptions): Promise<BitbucketApiDouble> {
  const requests: RecordedRequest[] = [];
  const scripted: (ScriptedAnswer & { left: number })[] = [];
  const required = options.requiredScopes ?? DEFAULT_REQUIRED_SCOPES;
  const defaultPagelen = options.defaultPagelen ?? 10;
  let origin = '';

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const seen = readAuth(req.headers.authorization, options.credentials, Object.values(required));
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      auth: seen.kind,
      ...(seen.email === undefined ? {} : { email: seen.email }),
      authenticated: seen.scopes !== undefined,
      ...(req.headers.accept === undefined ? {} : { accept: req.headers.accept }),
      outcome: 200,
    };
    requests.push(record);

    const send = (status: number, body: Json, headers: Record<string, string> = {}): void => {
      record.outcome = status;
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, message: string, detail?: Json, headers?: Record<string, string>): void =>
      send(status, { type: 'error', error: detail === undefined ? { message } : { message, detail } }, headers);

    const index = scripted.findIndex((answer) => matches(answer.path, url.pathname));
    if (index >= 0) {
      const answer = scripted[index];
      if (--answer.left <= 0) scripted.splice(index, 1);
      if ('fault' in answer) {
        record.outcome = answer.fault;
        if (answer.fault === 'drop') req.socket.destroy();
        return; // `hang`: the connection stays open until the client gives up or stop() closes it
      }
      const headers: Record<string, string> = answer.retryAfter === undefined ? {} : { 'Retry-After': answer.retryAfter };
      error(answer.status, answer.message ?? defaultMessage(answer.status), answer.detail as Json | undefined, headers);
      return;
    }

    if (req.method !== 'GET') return error(405, 'Method not allowed.');
    if (seen.kind === 'none' || seen.scopes === undefined) {
      return error(401, 'Token is invalid, expired, or not supported for this endpoint.');
    }
    const parts = url.pathname.replace(/\/+$/, '').split('/').slice(1).map(decodeURIComponent);
    if (parts[0] !== '2.0') return error(404, 'Resource not found');
    const needs = (scope: string): boolean => {
      if (seen.scopes?.includes(scope) ?? false) return true;
      error(403, 'Your credentials lack one or more required privilege scopes.', { required: [scope], granted: seen.scopes ?? [] });
      return false;
    };
    const workspace = (key: string): DoubleWorkspace | undefined =>
      options.workspaces.find((candidate) => candidate.slug === key || candidate.uuid === key);

    if (parts.length === 3 && parts[1] === 'workspaces') {
      if (!needs(required.workspace)) return;
      const found = workspace(parts[2]);
      if (found === undefined) return error(404, `No workspace with identifier '${parts[2]}'.`);
      return send(200, workspaceBody(origin, found));
    }
    if ((parts.length === 4 || parts.length === 5) && parts[1] === 'repositories') {
      if (!needs(parts.length === 4 ? required.repository : required.environments)) return;
      const ws = workspace(parts[2]);
      const repo = ws?.repositories.find((candidate) => candidate.slug === parts[3] || candidate.uuid === parts[3]);
      if (ws === undefined || repo === undefined) {
        return error(
          404,
          'You may not have access to this repository or it no longer exists in this workspace. If you think this repository ' +
            'exists and you have access, make sure you are authenticated.',
        );
      }
      if (parts.length === 4) return send(200, repositoryBody(origin, ws, repo));
      if (parts[4] !== 'environments') return error(404, 'Resource not found');
      const pagelen = Number(url.searchParams.get('pagelen') ?? defaultPagelen);
      const page = Number(url.searchParams.get('page') ?? 1);
      if (!Number.isInteger(pagelen) || pagelen < 1 || pagelen > 100) return error(400, 'Invalid pagelen');
      if (!Number.isInteger(page) || page < 1) return error(400, 'Invalid page');
      const all = repo.environments.map((environment) => environmentBody(environment, repo.environments));
      const values = all.slice((page - 1) * pagelen, page * pagelen);
      const body: { [key: string]: Json } = { pagelen, page, size: all.length, values };
      if (page * pagelen < all.length) {
        const next = new URL(`${origin}/2.0/repositories/${ws.slug}/${repo.slug}/environments/`);
        next.searchParams.set('page', String(page + 1));
        next.searchParams.set('pagelen', String(pagelen));
        body.next = next.href;
      }
      return send(200, body);
    }
    return error(404, 'Resource not found');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}/2.0`,
    workspaces: options.workspaces,
    requests,
    script(answer: ScriptedAnswer): void {
      scripted.push({ ...answer, left: answer.times ?? 1 });
    },
    stop(): Promise<void> {
      return new Promise((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        server.closeAllConnections();
      });
    },
  };
}

function matches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === 'string' ? path.includes(pattern) : pattern.test(path);
}

function defaultMessage(status: number): string {
  switch (status) {
    case 401:
      return 'Token is invalid, expired, or not supported for this endpoint.';
    case 403:
      return 'Your credentials lack one or more required privilege scopes.';
    case 404:
      return 'Resource not found';
    case 429:
      return 'Rate limit for this resource has been exceeded';
    default:
      return status >= 500 ? 'Something went wrong' : 'Bad request';
  }
}

/** Reads an Authorization header against the accepted credentials; `scopes` is set only when they match. */
function readAuth(
  header: string | undefined,
  credentials: DoubleCredentials,
  all: string[],
): {
  kind: RecordedRequest['auth'];
  email?: string;
  scopes?: string[];
} {
  if (header === undefined || header === '') return { kind: 'none' };
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header);
  if (basic !== null) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'malformed' };
    const email = decoded.slice(0, colon);
    const token = decoded.slice(colon + 1);
    const found = credentials.apiTokens?.find((candidate) => candidate.email === email && candidate.apiToken === token);
    return { kind: 'basic', email, ...(found === undefined ? {} : { scopes: found.scopes ?? all }) };
  }
  const bearer = /^Bearer (\S+)$/.exec(header);
  if (bearer !== null) {
    const found = credentials.accessTokens?.find((candidate) => candidate.accessToken === bearer[1]);
    return { kind: 'bearer', ...(found === undefined ? {} : { scopes: found.scopes ?? all }) };
  }
  return { kind: 'malformed' };
}

function links(self: string, html: string): { [key: string]: Json } {
  return { self: { href: self }, html: { href: html }, avatar: { href: `${html}/avatar` } };
}

/** `GET /workspaces/{workspace}`, as in Atlassian's reference. */
function workspaceBody(origin: string, workspace: DoubleWorkspace): { [key: string]: Json } {
  return {
    type: 'workspace',
    uuid: workspace.uuid,
    name: workspace.name ?? workspace.slug,
    slug: workspace.slug,
    is_private: true,
    links: links(`${origin}/2.0/workspaces/${workspace.slug}`, `https://bitbucket.org/${workspace.slug}/`),
    created_on: '2021-03-04T10:11:12.000000+00:00',
  };
}

/** `GET /repositories/{workspace}/{repo_slug}`, as in Atlassian's reference. */
function repositoryBody(origin: string, workspace: DoubleWorkspace, repo: DoubleRepository): { [key: string]: Json } {
  const fullName = `${workspace.slug}/${repo.slug}`;
  return {
    type: 'repository',
    full_name: fullName,
    links: links(`${origin}/2.0/repositories/${fullName}`, `https://bitbucket.org/${fullName}`),
    name: repo.name ?? repo.slug,
    slug: repo.slug,
    description: '',
    scm: 'git',
    website: null,
    owner: { type: 'team', uuid: workspace.uuid, username: workspace.slug, display_name: workspace.name ?? workspace.slug },
    workspace: { type: 'workspace', uuid: workspace.uuid, name: workspace.name ?? workspace.slug, slug: workspace.slug },
    is_private: true,
    project: { type: 'project', key: 'PROJ', uuid: '{5f3a9d0e-7c1b-4a2e-9f60-1b2c3d4e5f60}', name: 'Project' },
    fork_policy: 'no_public_forks',
    created_on: '2022-05-06T07:08:09.000000+00:00',
    updated_on: '2024-01-02T03:04:05.000000+00:00',
    size: 123456,
    language: 'typescript',
    uuid: repo.uuid,
    mainbranch: { name: 'main', type: 'branch' },
    has_issues: false,
    has_wiki: false,
  };
}

const TYPE_RANK = { Test: 0, Staging: 1, Production: 2 } as const;

/** One value of `GET /repositories/{workspace}/{repo_slug}/environments`, as client code and fixtures show it. */
function environmentBody(environment: DoubleEnvironment, all: DoubleEnvironment[]): { [key: string]: Json } {
  const rank = environment.rank ?? all.filter((other) => other.type === environment.type).indexOf(environment);
  return {
    type: 'deployment_environment',
    uuid: environment.uuid,
    name: environment.name,
    slug: environment.slug ?? environment.name.toLowerCase().replace(/\s+/g, '-'),
    rank,
    hidden: false,
    environment_type: { type: 'deployment_environment_type', name: environment.type, rank: TYPE_RANK[environment.type] },
    environment_lock_enabled: false,
    lock: { type: 'deployment_environment_lock_open', name: 'OPEN' },
    restrictions: { type: 'deployment_restrictions_configuration', admin_only: false },
    category: { name: environment.type },
    deployment_gate_enabled: false,
  };
}
