/**
 * The client of Bitbucket's REST API 2.0 (src/bitbucket/api.ts) against a local HTTP double of the API:
 * both kinds of credentials, pagination, retries, the messages of each failure, and that no token ever
 * shows in an error, a message or what the double recorded.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { inspect } from 'util';
import {
  authFromEnv,
  BitbucketApiClient,
  BitbucketApiClientOptions,
  BitbucketApiError,
  BitbucketAuth,
  BitbucketRetryNotice,
  DEFAULT_BITBUCKET_API_URL,
  FetchLike,
} from '../src/bitbucket/api';
import { BitbucketApiDouble, DoubleWorkspace, startBitbucketApiDouble } from './support/bitbucket-api-double';

const EMAIL = 'dev@acme.example';
const API_TOKEN = 'ATATT3xFfGF0-basic-secret-4f1c9a';
const ACCESS_TOKEN = 'ATCTT3xFfGN0-bearer-secret-77e2d0';
const NARROW_TOKEN = 'ATCTT3xFfGN0-narrow-secret-0b9d13';
const WRONG_TOKEN = 'ATATT3xFfGF0-wrong-secret-c0ffee';
const BASIC: BitbucketAuth = { email: EMAIL, apiToken: API_TOKEN };
const BEARER: BitbucketAuth = { accessToken: ACCESS_TOKEN };

const WORKSPACE_UUID = '{0f6c1a3e-8d2b-4c5e-9a71-3b2d4e5f6a7b}';
const WEB_UUID = '{1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11}';
const ENVIRONMENTS = [
  { uuid: '{a1000000-0000-4000-8000-000000000001}', name: 'Test', type: 'Test' as const },
  { uuid: '{a1000000-0000-4000-8000-000000000002}', name: 'QA', type: 'Test' as const },
  { uuid: '{a1000000-0000-4000-8000-000000000003}', name: 'Staging', type: 'Staging' as const },
  { uuid: '{a1000000-0000-4000-8000-000000000004}', name: 'Production', type: 'Production' as const },
  { uuid: '{a1000000-0000-4000-8000-000000000005}', name: 'Production EU', type: 'Production' as const },
];

function world(): DoubleWorkspace[] {
  return [
    {
      uuid: WORKSPACE_UUID,
      slug: 'acme',
      name: 'Acme Corp',
      repositories: [
        { uuid: WEB_UUID, slug: 'web', name: 'Web', environments: ENVIRONMENTS.map((environment) => ({ ...environment })) },
        { uuid: '{2ee589be-2f5a-4ee0-9f8a-5d0c0b3b7c22}', slug: 'api', environments: [] },
      ],
    },
  ];
}

/** Every spelling of a secret that must never show: the tokens and the Basic credentials built from them. */
const SECRETS = [
  API_TOKEN,
  ACCESS_TOKEN,
  NARROW_TOKEN,
  WRONG_TOKEN,
  Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64'),
  Buffer.from(`${EMAIL}:${WRONG_TOKEN}`).toString('base64'),
];

function expectNoSecret(value: unknown): void {
  const texts = [inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value) ?? ''];
  if (value instanceof Error) texts.push(String(value), value.message, value.stack ?? '');
  for (const text of texts) for (const secret of SECRETS) expect(text).not.toContain(secret);
}

async function failure(promise: Promise<unknown>): Promise<BitbucketApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BitbucketApiError);
    expectNoSecret(error);
    return error as BitbucketApiError;
  }
  throw new Error('expected the call to fail');
}

let double: BitbucketApiDouble;
let slept: number[];
let notices: BitbucketRetryNotice[];

beforeEach(async () => {
  double = await startBitbucketApiDouble({
    workspaces: world(),
    defaultPagelen: 2,
    credentials: {
      apiTokens: [{ email: EMAIL, apiToken: API_TOKEN }],
      accessTokens: [
        { accessToken: ACCESS_TOKEN },
        { accessToken: NARROW_TOKEN, scopes: ['read:workspace:bitbucket', 'read:repository:bitbucket'] },
      ],
    },
  });
  slept = [];
  notices = [];
});

afterEach(async () => {
  expectNoSecret(double.requests);
  expectNoSecret(notices);
  await double.stop();
});

function client(auth: BitbucketAuth, options: Partial<BitbucketApiClientOptions> = {}): BitbucketApiClient {
  return new BitbucketApiClient({
    auth,
    baseUrl: double.url,
    sleep: async (ms) => {
      slept.push(ms);
    },
    onRetry: (notice) => notices.push(notice),
    ...options,
  });
}

describe('credentials reach the API', () => {
  test('an API token goes as Basic auth with the email, and the workspace comes back with its UUID in braces', async () => {
    const workspace = await client(BASIC).getWorkspace('acme');
    expect(workspace).toEqual({ uuid: WORKSPACE_UUID, slug: 'acme', name: 'Acme Corp' });
    expect(double.requests).toEqual([
      expect.objectContaining({ path: '/2.0/workspaces/acme', auth: 'basic', email: EMAIL, authenticated: true, outcome: 200 }),
    ]);
    expect(double.requests[0].accept).toBe('application/json');
  });

  test('an access token goes as a Bearer token, and the repository comes back with its workspace', async () => {
    const repository = await client(BEARER).getRepository('acme', 'web');
    expect(repository).toEqual({
      uuid: WEB_UUID,
      slug: 'web',
      name: 'Web',
      full_name: 'acme/web',
      workspace: { uuid: WORKSPACE_UUID, slug: 'acme' },
    });
    expect(double.requests).toEqual([
      expect.objectContaining({ path: '/2.0/repositories/acme/web', auth: 'bearer', authenticated: true, outcome: 200 }),
    ]);
  });

  test('the default base URL is Bitbucket Cloud', async () => {
    const urls: string[] = [];
    const fake: FetchLike = async (url) => {
      urls.push(url);
      return new Response(JSON.stringify({ type: 'workspace', uuid: WORKSPACE_UUID, slug: 'acme' }), { status: 200 });
    };
    await new BitbucketApiClient({ auth: BEARER, fetch: fake }).getWorkspace('acme');
    expect(urls).toEqual([`${DEFAULT_BITBUCKET_API_URL}/workspaces/acme`]);
  });
});

describe('environments, on every page', () => {
  test('follows next until it is absent and returns the environments of every page, with type and rank', async () => {
    const environments = await client(BASIC).listEnvironments('acme', 'web');
    expect(environments.map((environment) => environment.uuid)).toEqual(ENVIRONMENTS.map((environment) => environment.uuid));
    expect(environments[4]).toEqual({
      uuid: ENVIRONMENTS[4].uuid,
      name: 'Production EU',
      slug: 'production-eu',
      rank: 1,
      environment_type: { name: 'Production', rank: 2 },
    });
    expect(environments[1].environment_type).toEqual({ name: 'Test', rank: 0 });
    expect(double.requests.map((request) => request.query.page)).toEqual([undefined, '2', '3']);
    expect(double.requests.every((request) => request.auth === 'basic' && request.authenticated)).toBe(true);
  });

  test('asks for pagelen when told to, and a repository without environments gives an empty list', async () => {
    const environments = await client(BEARER, { pagelen: 100 }).listEnvironments('acme', 'web');
    expect(environments).toHaveLength(5);
    expect(double.requests).toHaveLength(1);
    expect(double.requests[0].query.pagelen).toBe('100');
    await expect(client(BEARER).listEnvironments('acme', 'api')).resolves.toEqual([]);
  });

  test('unknown fields are ignored, and an environment type other than the three is left out', async () => {
    const fake: FetchLike = async () =>
      new Response(
        JSON.stringify({
          values: [{ uuid: '{e1}', name: 'Sandbox', surprise: { nested: true }, environment_type: { name: 'Sandbox', rank: 9 } }],
        }),
        { status: 200 },
      );
    const environments = await client(BEARER, { fetch: fake }).listEnvironments('acme', 'web');
    expect(environments).toEqual([{ uuid: '{e1}', name: 'Sandbox' }]);
  });

  test('a next link to another origin is refused, so the token never leaves the API', async () => {
    const urls: string[] = [];
    const fake: FetchLike = async (url) => {
      urls.push(url);
      return new Response(JSON.stringify({ values: [], next: 'https://evil.example/2.0/steal?page=2' }), { status: 200 });
    };
    const error = await failure(client(BEARER, { fetch: fake }).listEnvironments('acme', 'web'));
    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('https://evil.example');
    expect(urls).toHaveLength(1);
  });

  test('the number of pages is bounded', async () => {
    let page = 0;
    const fake: FetchLike = async (url) => {
      page++;
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      return new Response(JSON.stringify({ values: [], next: next.href }), { status: 200 });
    };
    const error = await failure(client(BEARER, { fetch: fake, maxPages: 4 }).listEnvironments('acme', 'web'));
    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('more than 4 pages');
    expect(page).toBe(4);
  });
});

describe('429: waits as Retry-After says, a bounded number of times', () => {
  test('retries after Retry-After seconds, then succeeds', async () => {
    double.script({ path: '/environments', status: 429, retryAfter: '7', times: 2 });
    const environments = await client(BASIC).listEnvironments('acme', 'web');
    expect(environments).toHaveLength(5);
    expect(slept).toEqual([7000, 7000]);
    expect(notices.map((notice) => [notice.reason, notice.status, notice.attempt])).toEqual([
      ['rate-limited', 429, 1],
      ['rate-limited', 429, 2],
    ]);
    expect(double.requests.map((request) => request.outcome)).toEqual([429, 429, 200, 200, 200]);
  });

  test('Retry-After as an HTTP date waits until that date', async () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    double.script({ status: 429, retryAfter: new Date(now + 3000).toUTCString() });
    await client(BEARER, { now: () => now }).getWorkspace('acme');
    expect(slept).toEqual([3000]);
  });

  test('gives up after the bounded number of retries, saying so', async () => {
    double.script({ status: 429, retryAfter: '1', times: 10 });
    const error = await failure(client(BEARER, { rateLimitRetries: 2 }).getWorkspace('acme'));
    expect(error.code).toBe('rate-limited');
    expect(error.status).toBe(429);
    expect(error.message).toContain('still rate limited after 2 retries');
    expect(double.requests).toHaveLength(3);
  });

  test('a Retry-After longer than the limit fails at once instead of hanging the run', async () => {
    double.script({ status: 429, retryAfter: '3600' });
    const error = await failure(client(BEARER).getWorkspace('acme'));
    expect(error.code).toBe('rate-limited');
    expect(error.message).toContain('Retry-After (3600) is longer than 60 s');
    expect(slept).toEqual([]);
  });
});

describe('refusals say what to do, and never show the token', () => {
  test('401 for an API token: the token was refused, check BITBUCKET_API_TOKEN and BITBUCKET_EMAIL', async () => {
    const error = await failure(client({ email: EMAIL, apiToken: WRONG_TOKEN }).getWorkspace('acme'));
    expect(error).toMatchObject({ code: 'unauthorized', status: 401, url: `${double.url}/workspaces/acme` });
    expect(error.message).toContain('Bitbucket refused the token (401)');
    expect(error.message).toContain('BITBUCKET_API_TOKEN');
    expect(error.message).toContain('BITBUCKET_EMAIL');
    expect(error.message).toContain('Token is invalid, expired, or not supported for this endpoint.');
    expect(double.requests[0]).toMatchObject({ auth: 'basic', email: EMAIL, authenticated: false, outcome: 401 });
  });

  test('401 for an access token names BITBUCKET_ACCESS_TOKEN, and is not retried', async () => {
    const error = await failure(client({ accessToken: WRONG_TOKEN }).getRepository('acme', 'web'));
    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain('BITBUCKET_ACCESS_TOKEN');
    expect(error.message).toContain('28 July 2026');
    expect(double.requests).toHaveLength(1);
    expect(slept).toEqual([]);
  });

  test('403 names the scope Bitbucket says is missing', async () => {
    const error = await failure(client({ accessToken: NARROW_TOKEN }).listEnvironments('acme', 'web'));
    expect(error).toMatchObject({ code: 'forbidden', status: 403 });
    expect(error.message).toContain('The token lacks the scope "read:pipeline:bitbucket"');
    expect(error.message).toContain('repository "acme/web"');
  });

  test("403 names a scope written only in Bitbucket's message, and guesses one when Bitbucket names none", async () => {
    double.script({ status: 403, message: 'Access denied: this API requires the read:repository:bitbucket scope.' });
    const named = await failure(client(BEARER).getRepository('acme', 'web'));
    expect(named.message).toContain('The token lacks the scope "read:repository:bitbucket"');
    double.script({ status: 403, message: 'Forbidden' });
    const unnamed = await failure(client(BEARER).getWorkspace('acme'));
    expect(unnamed.message).toContain('this call needs read:workspace:bitbucket');
  });

  test('404 names the repository that was not found', async () => {
    const error = await failure(client(BASIC).getRepository('acme', 'nope'));
    expect(error).toMatchObject({ code: 'not-found', status: 404, url: `${double.url}/repositories/acme/nope` });
    expect(error.message).toContain('Bitbucket found no repository "acme/nope" (404)');
    const environments = await failure(client(BASIC).listEnvironments('acme', 'nope'));
    expect(environments.message).toContain('deployment environments of repository "acme/nope"');
  });

  test('404 names the workspace that was not found', async () => {
    const error = await failure(client(BASIC).getWorkspace('acne'));
    expect(error.message).toContain('workspace "acne"');
    expect(error.bitbucketMessage).toBe("No workspace with identifier 'acne'.");
  });

  test("a token echoed in Bitbucket's message is scrubbed", async () => {
    double.script({ status: 400, message: `bad header Bearer ${ACCESS_TOKEN}` });
    const error = await failure(client(BEARER).getWorkspace('acme'));
    expect(error.message).toContain('Bearer ***');
    expect(error.bitbucketMessage).toBe('bad header Bearer ***');
  });

  test('a redirect is reported, not followed with the token', async () => {
    const urls: string[] = [];
    const fake: FetchLike = async (url) => {
      urls.push(url);
      return new Response(null, { status: 301, headers: { Location: 'https://api.bitbucket.org/2.0/repositories/acme/web-app' } });
    };
    const error = await failure(client(BEARER, { fetch: fake }).getRepository('acme', 'web'));
    expect(error).toMatchObject({ code: 'http-error', status: 301 });
    expect(error.message).toContain('/repositories/acme/web-app');
    expect(error.message).toContain('renamed');
    expect(urls).toHaveLength(1);
  });
});

describe('network errors and timeouts: bounded, with the URL and without the token', () => {
  test('a dropped connection is retried a bounded number of times, then fails with the URL', async () => {
    double.script({ fault: 'drop', times: 10 });
    const error = await failure(client(BASIC, { networkRetries: 2 }).getWorkspace('acme'));
    expect(error).toMatchObject({ code: 'network-error', status: undefined, url: `${double.url}/workspaces/acme` });
    expect(error.message).toContain(`GET ${double.url}/workspaces/acme failed`);
    expect(error.message).toContain('3 attempts');
    expect(double.requests).toHaveLength(3);
    expect(slept).toEqual([1000, 2000]);
  });

  test('a refused connection fails with the URL', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const base = `http://127.0.0.1:${port}/2.0`;
    const error = await failure(client(BASIC, { baseUrl: base, networkRetries: 1 }).getRepository('acme', 'web'));
    expect(error.code).toBe('network-error');
    expect(error.message).toContain(`${base}/repositories/acme/web`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(slept).toEqual([1000]);
  });

  test('a request that hangs times out, is retried a bounded number of times, and names the URL', async () => {
    double.script({ fault: 'hang', times: 10 });
    const error = await failure(client(BEARER, { timeoutMs: 100, networkRetries: 1 }).listEnvironments('acme', 'web'));
    expect(error.code).toBe('timeout');
    expect(error.message).toContain(`GET ${double.url}/repositories/acme/web/environments timed out after 100 ms (2 attempts)`);
    expect(double.requests.map((request) => request.outcome)).toEqual(['hang', 'hang']);
    expect(notices.map((notice) => notice.reason)).toEqual(['timeout']);
  });

  test('a 5xx is retried like a network error, then succeeds', async () => {
    double.script({ status: 503, times: 1 });
    await expect(client(BEARER).getWorkspace('acme')).resolves.toMatchObject({ uuid: WORKSPACE_UUID });
    expect(notices.map((notice) => [notice.reason, notice.status])).toEqual([['server-error', 503]]);
  });

  test('credentials in the base URL never reach a message', async () => {
    const base = double.url.replace('http://', `http://user:${API_TOKEN}@`);
    const error = await failure(client(BEARER, { baseUrl: base }).getRepository('acme', 'nope'));
    expect(error.url).toBe(`${double.url}/repositories/acme/nope`);
  });
});

describe('authFromEnv', () => {
  const env = (values: Record<string, string>): Record<string, string | undefined> => values;
  const refusal = (values: Record<string, string>): BitbucketApiError => {
    try {
      authFromEnv(env(values));
    } catch (error) {
      expect(error).toBeInstanceOf(BitbucketApiError);
      expectNoSecret(error);
      for (const value of Object.values(values)) if (value.length > 8) expect((error as Error).message).not.toContain(value);
      return error as BitbucketApiError;
    }
    throw new Error('expected authFromEnv to refuse');
  };

  test('BITBUCKET_EMAIL and BITBUCKET_API_TOKEN give Basic credentials, trimmed', () => {
    expect(authFromEnv({ BITBUCKET_EMAIL: ` ${EMAIL} `, BITBUCKET_API_TOKEN: `${API_TOKEN}\n` })).toEqual(BASIC);
  });

  test('BITBUCKET_ACCESS_TOKEN gives a Bearer token', () => {
    expect(authFromEnv({ BITBUCKET_ACCESS_TOKEN: ACCESS_TOKEN })).toEqual(BEARER);
  });

  test('an email without a token names BITBUCKET_API_TOKEN', () => {
    const error = refusal({ BITBUCKET_EMAIL: EMAIL, BITBUCKET_API_TOKEN: '  ' });
    expect(error.code).toBe('missing-credentials');
    expect(error.message).toMatch(/^BITBUCKET_EMAIL is set but BITBUCKET_API_TOKEN is not: set BITBUCKET_API_TOKEN/);
  });

  test('a token without an email names BITBUCKET_EMAIL', () => {
    const error = refusal({ BITBUCKET_API_TOKEN: API_TOKEN });
    expect(error.message).toMatch(/^BITBUCKET_API_TOKEN is set but BITBUCKET_EMAIL is not: set BITBUCKET_EMAIL/);
  });

  test('a username in BITBUCKET_EMAIL is refused', () => {
    const error = refusal({ BITBUCKET_EMAIL: 'acme-dev', BITBUCKET_API_TOKEN: API_TOKEN });
    expect(error.message).toContain('BITBUCKET_EMAIL is not an email address');
  });

  test('both kinds of credentials are refused as ambiguous', () => {
    const error = refusal({ BITBUCKET_EMAIL: EMAIL, BITBUCKET_API_TOKEN: API_TOKEN, BITBUCKET_ACCESS_TOKEN: ACCESS_TOKEN });
    expect(error.message).toContain('set only one kind');
  });

  test('nothing set names every variable', () => {
    const error = refusal({});
    expect(error.message).toContain('No Bitbucket credentials are set');
    for (const name of ['BITBUCKET_EMAIL', 'BITBUCKET_API_TOKEN', 'BITBUCKET_ACCESS_TOKEN']) expect(error.message).toContain(name);
  });

  test('an app password is refused: removed on 28 July 2026, an API token is needed', () => {
    const appPassword = 'ATBBxAppPasswordSecret9f8e7d';
    const error = refusal({ BITBUCKET_USERNAME: 'acme-dev', BITBUCKET_APP_PASSWORD: appPassword });
    expect(error.message).toContain('app passwords were removed on 28 July 2026');
    expect(error.message).toContain('an API token is needed');
    expect(error.message).not.toContain(appPassword);
  });

  test('an app password beside a complete API token is ignored', () => {
    expect(authFromEnv({ BITBUCKET_APP_PASSWORD: 'old', BITBUCKET_EMAIL: EMAIL, BITBUCKET_API_TOKEN: API_TOKEN })).toEqual(BASIC);
  });
});
