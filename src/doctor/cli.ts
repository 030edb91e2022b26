/**
 * The token doctor's command line (`npm run explain -- [options]`): reads the token and the
 * configuration, runs the analysis, prints it, and returns the exit code. Every outside dependency
 * (environment, working directory, output, stdin, fetch, clock) is injectable, so tests run it
 * in-process.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { parseIp } from '../iam/evaluate';
import { CONFIG_ENV_VAR, loadConfig, LoadedConfig } from '../config/load';
import { ConfigError } from '../config/validate';
import { EXIT, UnusableInputError } from './errors';
import { explainToken, StepContext } from './explain';
import { denialReason, formatReport, jsonReport, JsonError, JSON_REPORT_VERSION, ReportSource } from './report-format';
import { decodeToken, DecodedToken, discoverJwks, FetchLike, JwksLocation, SignatureCheck, verifySignature } from './jwt';
import { selectRoles } from './role-selection';

/** The environment variable Bitbucket puts a step's token in (only with `oidc: true`). */
export const TOKEN_ENV_VAR = 'BITBUCKET_STEP_OIDC_TOKEN';

/** A token is a few kilobytes; anything much larger is the wrong file. */
const MAX_TOKEN_BYTES = 64 * 1024;

export const USAGE = `Usage: npm run explain -- [options]

Explains whether AWS would let a Bitbucket Pipelines OIDC token assume the roles of the
configuration (${CONFIG_ENV_VAR}, else the bundled example), and why not.

Options:
  -t, --token-file <path>  read the token from a file ("-" for stdin);
                           default: the ${TOKEN_ENV_VAR} environment variable
      --role <name>        check only this role (repeatable), in every account that has it
      --account <name>     check only the roles of this account (repeatable)
      --json               print a machine-readable report (see docs/doctor.md)
      --verify-signature   verify the RS256 signature against the workspace's published keys
                           (the issuer's openid-configuration jwks_uri, else <issuer>/keys.json)
      --jwks-url <url>     verify against the JWKS at this URL instead (implies --verify-signature)
      --source-ip <addr>   the caller's address, for roles limited by aws:SourceIp
      --print-role-arn     print the ARN of the one role selected by --account and --role, and exit
  -h, --help               show this help

Exit codes: 0 a checked role admits the token; 1 none does (a bad signature included); 2 unusable
input (no or malformed token, unreadable file, invalid configuration, unknown role or account, JWKS
unreachable); 3 a bug in the doctor.`;

/** Everything the doctor reads from and writes to; the defaults are the process's. */
export interface DoctorOptions {
  /** Arguments after the program name. */
  readonly argv: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
  /** Reads all of stdin (for `--token-file -`). */
  readonly readStdin?: () => Promise<string>;
  /** HTTP client for the JWKS. @default - the global fetch */
  readonly fetch?: FetchLike;
  /** @default - the system clock */
  readonly now?: () => Date;
}

interface ParsedArguments {
  readonly tokenFile?: string;
  readonly roles: string[];
  readonly accounts: string[];
  readonly json: boolean;
  readonly verifySignature: boolean;
  readonly jwksUrl?: string;
  readonly sourceIp?: string;
  readonly printRoleArn: boolean;
  readonly help: boolean;
}

function parseArguments(argv: readonly string[]): ParsedArguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        'token-file': { type: 'string', short: 't' },
        role: { type: 'string', multiple: true },
        account: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        'verify-signature': { type: 'boolean' },
        'jwks-url': { type: 'string' },
        'source-ip': { type: 'string' },
        'print-role-arn': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // parseArgs explains positionals at length; the first sentence is the reason.
    const reason = (error as Error).message.split(/\.\s/)[0].replace(/\.$/, '');
    throw new UnusableInputError(`${reason}; run with --help for the options`);
  }
  const jwksUrl = values['jwks-url'];
  if (jwksUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(jwksUrl)) {
    throw new UnusableInputError(
      `--jwks-url ${JSON.stringify(jwksUrl)} must be an http(s) URL, e.g. https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc/keys.json`,
    );
  }
  const sourceIp = values['source-ip'];
  if (sourceIp !== undefined && parseIp(sourceIp) === undefined) {
    throw new UnusableInputError(`--source-ip ${JSON.stringify(sourceIp)} must be an IPv4 or IPv6 address, e.g. 203.0.113.7`);
  }
  for (const [option, names] of [
    ['--role', values.role],
    ['--account', values.account],
  ] as const) {
    const blank = (names ?? []).find((n) => n.trim() === '');
    if (blank !== undefined) throw new UnusableInputError(`${option} ${JSON.stringify(blank)} must be a non-empty name`);
  }
  return {
    ...(values['token-file'] === undefined ? {} : { tokenFile: values['token-file'] }),
    roles: values.role ?? [],
    accounts: values.account ?? [],
    json: values.json ?? false,
    verifySignature: (values['verify-signature'] ?? false) || jwksUrl !== undefined,
    ...(jwksUrl === undefined ? {} : { jwksUrl }),
    ...(sourceIp === undefined ? {} : { sourceIp }),
    printRoleArn: values['print-role-arn'] ?? false,
    help: values.help ?? false,
  };
}

async function readProcessStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UnusableInputError('--token-file - reads the token from stdin, which is a terminal: pipe the token in, e.g. < token.jwt');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads the token text and names its source for messages. */
async function readToken(
  args: ParsedArguments,
  env: NodeJS.ProcessEnv,
  cwd: string,
  readStdin: () => Promise<string>,
): Promise<{ text: string; source: string }> {
  let text: string;
  let source: string;
  if (args.tokenFile === '-') {
    source = 'stdin';
    text = await readStdin();
  } else if (args.tokenFile !== undefined) {
    source = `--token-file ${JSON.stringify(args.tokenFile)}`;
    try {
      text = readFileSync(path.resolve(cwd, args.tokenFile), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new UnusableInputError(`${source} cannot be read (${code}); it must name a file holding the token`);
    }
  } else {
    const value = env[TOKEN_ENV_VAR];
    if (value === undefined) {
      throw new UnusableInputError(
        `no token: pass --token-file <path> ("-" for stdin), or run in a Bitbucket Pipelines step with "oidc: true", where ${TOKEN_ENV_VAR} is set`,
      );
    }
    source = TOKEN_ENV_VAR;
    text = value;
  }
  if (Buffer.byteLength(text) > MAX_TOKEN_BYTES) {
    throw new UnusableInputError(
      `the token from ${source} is ${Buffer.byteLength(text)} bytes, and a token must be at most ${MAX_TOKEN_BYTES} (a JWT is a few kilobytes): is this the right file?`,
    );
  }
  return { text, source };
}

function loadDoctorConfig(env: NodeJS.ProcessEnv, cwd: string): LoadedConfig {
  try {
    return loadConfig(env, cwd);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const [first, ...rest] = error.message.split('\n');
    throw new UnusableInputError(`the configuration is unusable: ${first.replace(/:$/, '')}`, rest);
  }
}

async function checkSignature(
  args: ParsedArguments,
  token: DecodedToken,
  issuerUrl: string,
  fetch: FetchLike,
): Promise<SignatureCheck | undefined> {
  if (!args.verifySignature) return undefined;
  // Keys come from the configured workspace's issuer, never from the token's own `iss`: a forged
  // token would name its forger's key server.
  const location: JwksLocation =
    args.jwksUrl !== undefined ? { url: args.jwksUrl, via: '--jwks-url' } : await discoverJwks(issuerUrl, fetch);
  return verifySignature(token, location, fetch);
}

function stepContext(env: NodeJS.ProcessEnv): StepContext {
  const { BITBUCKET_STEP_UUID, BITBUCKET_REPO_FULL_NAME, BITBUCKET_DEPLOYMENT_ENVIRONMENT } = env;
  return {
    ...(BITBUCKET_STEP_UUID ? { stepUuid: BITBUCKET_STEP_UUID } : {}),
    ...(BITBUCKET_REPO_FULL_NAME ? { repositoryFullName: BITBUCKET_REPO_FULL_NAME } : {}),
    ...(BITBUCKET_DEPLOYMENT_ENVIRONMENT ? { deploymentEnvironment: BITBUCKET_DEPLOYMENT_ENVIRONMENT } : {}),
  };
}

/** Runs the doctor; returns the process exit code (0 allowed, 1 denied, 2 unusable input). */
export async function runDoctor(options: DoctorOptions): Promise<number> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const out = options.stdout ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  const fetch = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const now = options.now ?? (() => new Date());
  const json = options.argv.includes('--json');

  try {
    const args = parseArguments(options.argv);
    if (args.help) {
      out(USAGE);
      return EXIT.allowed;
    }
    const loaded = loadDoctorConfig(env, cwd);
    const configFile = path.relative(cwd, loaded.file) || loaded.file;
    if (loaded.isExample) {
      err(
        `note: ${CONFIG_ENV_VAR} is not set, so the roles of the bundled example ${configFile} are checked; set ${CONFIG_ENV_VAR}=path/to/your-config.json`,
      );
    }
    const roles = selectRoles(loaded.config, { roles: args.roles, accounts: args.accounts }, configFile);

    if (args.printRoleArn) {
      if (roles.length !== 1) {
        throw new UnusableInputError(
          `--print-role-arn needs --account and --role selecting exactly one role, and they select ${roles.length}: ${roles.map((r) => `${r.account.name}/${r.role.name}`).join(', ')}`,
        );
      }
      out(roles[0].arn);
      return EXIT.allowed;
    }

    const { text, source } = await readToken(args, env, cwd, options.readStdin ?? readProcessStdin);
    const token = decodeToken(text, source);
    const signature = await checkSignature(args, token, loaded.config.issuer.url, fetch);
    const report = explainToken({
      token,
      config: loaded.config,
      roles,
      now: now(),
      ...(signature === undefined ? {} : { signature }),
      ...(args.sourceIp === undefined ? {} : { sourceIp: args.sourceIp }),
      step: stepContext(env),
    });
    const exitCode = report.allowed.length > 0 ? EXIT.allowed : EXIT.denied;
    const reportSource: ReportSource = { configFile, isExample: loaded.isExample, token: source };
    if (args.json) out(JSON.stringify(jsonReport(report, reportSource, exitCode), null, 2));
    else for (const line of formatReport(report, reportSource, exitCode)) out(line);
    if (exitCode === EXIT.denied) err(`denied: ${denialReason(report)}`);
    return exitCode;
  } catch (error) {
    if (!(error instanceof UnusableInputError)) throw error;
    err(`error: ${error.message}`);
    for (const detail of error.details) err(detail);
    if (json) {
      const document: JsonError = { version: JSON_REPORT_VERSION, exitCode: EXIT.unusable, error: error.message, details: error.details };
      out(JSON.stringify(document, null, 2));
    }
    return EXIT.unusable;
  }
}
