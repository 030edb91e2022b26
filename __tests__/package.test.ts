/**
 * The packed package in a fresh CDKTF app: `npm run build:lib`, `npm pack` into a temp folder, then an
 * app in another temp folder that installs the tarball with npm, takes the README's library example
 * (between `<!-- library-example:start -->` and `<!-- library-example:end -->`) as its `main.ts`,
 * compiles it with this project's TypeScript and runs it with Node.js; the synthesized stack must hold
 * the role with the trust the example asks for.
 *
 * The app's cdktf, constructs and @cdktf/provider-aws are this project's installed copies, as `file:`
 * dependencies (npm links them), not fresh copies from npm's cache: @cdktf/provider-aws is 390 MB in
 * 4,500 files, and installing it from the cache and removing it again takes about 18 s on the 2-core CI
 * machine, against about 1 s for the whole install here. What the test is about stays as a user
 * would meet it: npm installs the tarball itself (its `files`, `main`, `types` and `exports`), checks
 * the package's peer ranges against the linked versions (a range they miss fails with ERESOLVE), and
 * Node.js and tsc resolve the package's imports of cdktf and constructs to the same files as the app's
 * (by real path), so the app and the library share one cdktf and one constructs, as in an app
 * installed from the registry. Every npm command runs offline and without scripts, with none of the
 * `npm_*` variables of an `npm test` around it (`npm_config_local_prefix` would point npm back at
 * this project).
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hermeticEnv } from './support/hermetic-env';

const ROOT = path.resolve(__dirname, '..');
const MANIFEST = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  peerDependencies: Record<string, string>;
};
const PEERS = ['cdktf', 'constructs', '@cdktf/provider-aws'];
const ISSUER = 'api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc';

/** The README's library example, the TypeScript block between its markers. */
function readmeExample(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- library-example:start -->\n```ts\n([^]*?)```\n<!-- library-example:end -->/.exec(readme)?.[1];
  if (block === undefined)
    throw new Error('README.md has no ```ts block between <!-- library-example:start --> and <!-- library-example:end -->');
  return block;
}

/** The hermetic environment, without npm's own variables (set when the suite runs under `npm test`). */
function processEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(hermeticEnv()).filter(([key]) => !/^npm_/i.test(key)));
}

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: processEnv(), encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} in ${cwd} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

interface PackedFile {
  path: string;
}

interface Resource {
  name?: string;
  assume_role_policy?: string;
  url?: string;
  client_id_list?: string[];
  policy?: string;
}

let work: string;
let packed: PackedFile[];
let app: string;
let stack: { resource: Record<string, Record<string, Resource>> };

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'package-test-'));
  const packDir = path.join(work, 'pack');
  app = path.join(work, 'app');
  mkdirSync(packDir);
  mkdirSync(app);

  // GIVEN the library, built and packed as the README says (npm pack runs no build: .npmrc has ignore-scripts).
  run('npm', ['run', '--silent', 'build:lib'], ROOT);
  const [pack] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', packDir, '--loglevel=error'], ROOT).stdout) as {
    filename: string;
    files: PackedFile[];
  }[];
  packed = pack.files;

  // AND a fresh CDKTF app depending on the peers and on the tarball.
  const peer = (name: string) => `file:${path.join(ROOT, 'node_modules', name)}`;
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({
      name: 'consumer-app',
      version: '1.0.0',
      private: true,
      dependencies: {
        ...Object.fromEntries(PEERS.map((name) => [name, peer(name)])),
        [MANIFEST.name]: `file:${path.join(packDir, pack.filename)}`,
      },
    }),
  );
  // The options of `cdktf init --template=typescript`.
  writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        alwaysStrict: true,
        declaration: true,
        experimentalDecorators: true,
        lib: ['es2018'],
        module: 'CommonJS',
        noEmitOnError: true,
        noFallthroughCasesInSwitch: true,
        noImplicitAny: true,
        noImplicitReturns: true,
        noImplicitThis: true,
        noUnusedLocals: true,
        noUnusedParameters: true,
        resolveJsonModule: true,
        strict: true,
        strictNullChecks: true,
        strictPropertyInitialization: true,
        stripInternal: true,
        target: 'ES2018',
        skipLibCheck: true,
        types: [],
      },
      include: ['main.ts'],
    }),
  );
  writeFileSync(path.join(app, 'main.ts'), readmeExample());
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--install-links=false', '--loglevel=error'], app);

  // WHEN the README's example is compiled and run there.
  run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], app);
  run(process.execPath, ['main.js'], app);
  stack = JSON.parse(readFileSync(path.join(app, 'cdktf.out', 'stacks', 'bitbucket-access', 'cdk.tf.json'), 'utf8'));
}, 120_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the compiled library with its declarations, and the README, and nothing else', () => {
    const paths = packed.map((file) => file.path);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/lib/index.js', 'dist/lib/index.d.ts']));
    expect(paths.filter((p) => !['package.json', 'README.md', 'LICENSE'].includes(p) && !/^dist\/lib\/.*\.(js|d\.ts)$/.test(p))).toEqual(
      [],
    );
  });

  // npm install above checked the peer ranges against the versions this project pins.
  it('takes cdktf, constructs and @cdktf/provider-aws as peer dependencies, and has no dependencies of its own', () => {
    expect(Object.keys(MANIFEST.peerDependencies).sort()).toEqual([...PEERS].sort());
    const installed = JSON.parse(readFileSync(path.join(app, 'node_modules', MANIFEST.name, 'package.json'), 'utf8'));
    expect(installed.dependencies ?? {}).toEqual({});
    expect(installed.peerDependencies).toEqual(MANIFEST.peerDependencies);
  });

  it('imports provider resources by deep path only, never the @cdktf/provider-aws root', () => {
    const lib = path.join(app, 'node_modules', MANIFEST.name, 'dist', 'lib');
    const requires = packed
      .filter((file) => file.path.endsWith('.js'))
      .flatMap((file) =>
        [...readFileSync(path.join(lib, path.relative('dist/lib', file.path)), 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)].map(
          (m) => m[1],
        ),
      );
    expect(requires).not.toContain('@cdktf/provider-aws');
    expect([...new Set(requires.map((r) => r.replace(/\/lib\/.*$/, '')))].sort()).toEqual(['@cdktf/provider-aws', 'cdktf', 'constructs']);
  });
});

describe("the README's library example, compiled and run against the packed package", () => {
  it('writes a stack with the role, trusted by the deployment steps of the one environment of the one repository', () => {
    const roles = Object.values(stack.resource.aws_iam_role ?? {});
    expect(roles.map((role) => role.name)).toEqual(['bitbucket-deploy']);
    expect(JSON.parse(roles[0].assume_role_policy ?? 'null')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${ISSUER}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { [`${ISSUER}:aud`]: 'ari:cloud:bitbucket::workspace/8a1f1c70-0c1e-4f7b-9c53-6f2d2a1b3c4d' },
            StringLike: { [`${ISSUER}:sub`]: '{1de489be-2f5a-4ee0-9f8a-5d0c0b3b7c11}:{0b5e4a7c-3d2f-4e1a-9b8c-7d6e5f4a3b2c}:*' },
          },
        },
      ],
    });
  });

  it("writes the workspace's OIDC provider and the role's inline policy", () => {
    const providers = Object.values(stack.resource.aws_iam_openid_connect_provider ?? {});
    expect(providers.map((p) => [p.url, p.client_id_list])).toEqual([
      [`https://${ISSUER}`, ['ari:cloud:bitbucket::workspace/8a1f1c70-0c1e-4f7b-9c53-6f2d2a1b3c4d']],
    ]);
    const policies = Object.values(stack.resource.aws_iam_role_policy ?? {});
    expect(policies.map((p) => [p.name, JSON.parse(p.policy ?? 'null').Statement])).toEqual([
      ['upload', [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::acme-artifacts/*' }]],
    ]);
  });
});
