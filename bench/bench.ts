/**
 * `npm run bench`: median wall time and peak RSS of the synth bundle (`node dist/main.js`) for the
 * bundled example and for generated configurations of 10, 100 and 1,000 roles spread over several
 * accounts and of 5,000 roles in 50 accounts with pipeline roles and one state bucket, side by side with the floor (an empty CDKTF app loading the same modules, see `floor.ts`:
 * its imports are the node_modules files the synth's own files import, read from the synth's metafile);
 * `npm run --silent synth` as a user runs it, side by side with the seed's AWS CDK app
 * (`../shared/anchors/seed-cdk`, when present); and the wall time of `npm test`. Prints tables and
 * writes `bench-results/latest.json`.
 *
 * The seed is copied to `../seed-cdk-bench` (next to this project, never inside it), installed with
 * `npm ci` and compiled with `tsc` once; later runs reuse that copy while its sources equal the anchor's.
 *
 * Method: each command is run once to warm the file cache (and its output checked: the expected
 * number of stacks and roles), then `--runs` rounds (default 5) run every command once each, so load
 * on the machine hits all scenarios alike; the table shows medians (and the range). Wall time is
 * measured around the child process with `process.hrtime`; peak RSS is the child's maximum resident
 * set size as reported by `/usr/bin/time -f %M` (or, where that binary is missing, by
 * `process.resourceUsage().maxRSS` read in the child through a `--require` hook).
 *
 * Options: --runs N, --skip-test (leave out `npm test`), --skip-seed, --check (exit 1 when a target
 * is missed), --quick (the check `.ci/run` runs: one round, the example and 10 roles only, no seed, no
 * `npm test`, results in `bench-results/quick.json`; it fails as the full run does when a command fails,
 * writes the wrong output or the floor's bundle differs from the synth's, but its figures are no
 * measurement). An unknown option is an error, so a misspelt one does not start a full run.
 */
import { spawnSync } from 'child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { generateConfig } from '../__tests__/support/generate-config';

const ROOT = path.resolve(__dirname, '..', '..');
const TIME = '/usr/bin/time';
const args = process.argv.slice(2);
const OPTIONS = ['--runs', '--skip-test', '--skip-seed', '--check', '--quick'];
const unknownArgs = args.filter((arg, i) => !OPTIONS.includes(arg) && args[i - 1] !== '--runs');
if (unknownArgs.length > 0) {
  process.stderr.write(`bench: unknown option ${unknownArgs.join(' ')} (known: ${OPTIONS.join(', ')})\n`);
  process.exit(2);
}
const QUICK = args.includes('--quick');
const RUNS = args.includes('--runs') ? Math.max(1, Number(args[args.indexOf('--runs') + 1]) || 5) : QUICK ? 1 : 5;
const SKIP_TEST = QUICK || args.includes('--skip-test');
const SKIP_SEED = QUICK || args.includes('--skip-seed');
const CHECK = args.includes('--check');
/** The generated configurations: [roles, accounts, with a pipeline section and the state bucket in the first account]. */
const SCALES: [number, number, boolean][] = QUICK
  ? [[10, 2, false]]
  : [
      [10, 2, false],
      [100, 5, false],
      [1000, 10, false],
      [5000, 50, true],
    ];
const RESULTS_FILE = path.join('bench-results', QUICK ? 'quick.json' : 'latest.json');

/** The seed's AWS CDK app, and where the benchmark keeps a built copy of it. */
const SEED_SOURCE = path.resolve(ROOT, '..', 'shared', 'anchors', 'seed-cdk');
const SEED_COPY = path.resolve(ROOT, '..', 'seed-cdk-bench');
const SEED_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'main.ts'];

/**
 * The targets, on a 2-core machine; `npmSynthOverSeed`: `npm run synth` within 0.2x the seed's app;
 * `perRoleGrowth`: the time per role above the floor at 5,000 roles within 1.3x that at 1,000 (the
 * synth grows with the configuration, not faster).
 */
const TARGETS = {
  exampleOverFloor: 1.5,
  thousandRolesMs: 3000,
  thousandRolesMb: 300,
  fiveThousandRolesMs: 4000,
  fiveThousandRolesMb: 400,
  perRoleGrowth: 1.3,
  npmTestMs: 60000,
  npmSynthOverSeed: 0.2,
};

interface Sample {
  readonly ms: number;
  readonly rssMb: number;
}

interface Scenario {
  readonly name: string;
  readonly roles: number;
  readonly accounts: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly medianRssMb: number;
  readonly maxRssMb: number;
  readonly samples: Sample[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (value: number, digits = 0) => Number(value.toFixed(digits));

// BENCH_RSS=node forces the fallback (to test it on machines that have /usr/bin/time).
const useTime = existsSync(TIME) && process.env.BENCH_RSS !== 'node';
const RSS_HOOK = path.join(os.tmpdir(), `bench-rss-hook-${process.pid}.js`);
if (!useTime) {
  writeFileSync(
    RSS_HOOK,
    "process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
}

/** A command of the benchmark: what runs, where, and what it must write. */
interface Command {
  readonly name: string;
  readonly roles: number;
  readonly accounts: number;
  readonly command: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly check: () => string | undefined;
}

/** Runs a command once; returns its wall time and peak RSS (NaN where unknown), or throws when it fails. */
function measure(command: string, commandArgs: string[], env: NodeJS.ProcessEnv, scratch: string, cwd = ROOT): Sample {
  const rssFile = path.join(scratch, `rss-${process.hrtime.bigint()}`);
  const [file, argv] = useTime
    ? [TIME, ['-f', '%M', '-o', rssFile, command, ...commandArgs]]
    : [command, command === process.execPath ? ['--require', RSS_HOOK, ...commandArgs] : commandArgs];
  const start = process.hrtime.bigint();
  const result = spawnSync(file, argv, { cwd, env: { ...process.env, ...env, BENCH_RSS_FILE: rssFile }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${command} ${commandArgs.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  }
  const kb = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) : NaN;
  return { ms, rssMb: kb / 1024 };
}

/** The esbuild options of the synth bundle, as `scripts/synth.js` recorded them when it built `dist/main.js`. */
function synthBuildOptions(): Record<string, unknown> {
  const stamp = path.join(ROOT, 'dist', 'main.js.inputs.json');
  if (!existsSync(stamp))
    throw new Error('dist/main.js.inputs.json is missing: run the benchmark with `npm run bench`, which builds the synth');
  const { entryPoints, ...options } = JSON.parse(JSON.parse(readFileSync(stamp, 'utf8')).options) as Record<string, unknown>;
  return options;
}

/** Bundles with the synth's esbuild options (and `options` over them); returns the bundle's metafile. */
async function bundle(options: BuildOptions): Promise<Metafile> {
  const result = await build({ ...synthBuildOptions(), absWorkingDir: ROOT, metafile: true, ...options });
  return result.metafile!;
}

/** The files of node_modules a bundle contains (the synth's and the floor's must be the same). */
const packageFiles = (metafile: Metafile) =>
  Object.keys(metafile.inputs)
    .filter((file) => file.includes('node_modules/'))
    .sort();

/** The package a node_modules file belongs to. */
const packageOf = (file: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(file)?.[1] ?? file;

/**
 * Where the synth enters its dependencies: the node_modules files that its own files (main.ts, src/**)
 * import. Importing these, the floor loads what the synth loads, whatever the synth's code imports today.
 * Only static imports and require calls are followed: a dynamic import may load later or never, so the
 * floor cannot stand for it, and the benchmark stops to say so.
 */
function dependencyEntries(metafile: Metafile): string[] {
  const entries = new Set<string>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    if (file.includes('node_modules/')) continue;
    for (const imported of input.imports) {
      if (imported.external || !imported.path.includes('node_modules/')) continue;
      if (imported.kind !== 'import-statement' && imported.kind !== 'require-call') {
        throw new Error(`${file} loads ${imported.original} by ${imported.kind}: the floor loads only static imports (bench/bench.ts)`);
      }
      entries.add(imported.path);
    }
  }
  return [...entries].sort();
}

/** The floor's entry: imports each of the synth's dependency entries and hands them to `emptyApp` (floor.ts). */
function floorEntry(entries: string[]): string {
  return [
    "// Written by bench/bench.ts: the node_modules files the synth's own files import.",
    ...entries.map((file, i) => `import * as m${i} from ${JSON.stringify(`./${file}`)};`),
    "import { emptyApp } from './bench/floor';",
    `emptyApp([${entries.map((_, i) => `m${i}`).join(', ')}]);`,
    '',
  ].join('\n');
}

/**
 * A built copy of the seed's AWS CDK app, or why there is none. The copy is reused while its
 * package.json, package-lock.json, tsconfig.json and main.ts equal the anchor's and it holds the build.
 */
function prepareSeed(): { dir: string } | { reason: string } {
  if (SKIP_SEED) return { reason: `left out by ${QUICK ? '--quick' : '--skip-seed'}` };
  if (!existsSync(path.join(SEED_SOURCE, 'main.ts'))) return { reason: `${path.relative(ROOT, SEED_SOURCE)} is absent` };
  const same = (file: string) =>
    existsSync(path.join(SEED_COPY, file)) && readFileSync(path.join(SEED_COPY, file)).equals(readFileSync(path.join(SEED_SOURCE, file)));
  if (
    SEED_FILES.every(same) &&
    existsSync(path.join(SEED_COPY, 'dist', 'main.js')) &&
    existsSync(path.join(SEED_COPY, 'node_modules', 'aws-cdk-lib', 'package.json'))
  ) {
    return { dir: SEED_COPY };
  }
  process.stderr.write(`bench: building the seed in ${SEED_COPY} (npm ci, tsc; once) ...\n`);
  const building = `${SEED_COPY}.${process.pid}.tmp`;
  try {
    cpSync(SEED_SOURCE, building, { recursive: true, filter: (source) => !/[\\/](node_modules|dist|cdk\.out)$/.test(source) });
    for (const [command, commandArgs] of [
      ['npm', ['ci', '--no-audit', '--no-fund']],
      [process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc')]],
    ] as const) {
      const result = spawnSync(command, commandArgs, { cwd: building, encoding: 'utf8' });
      if (result.status !== 0)
        throw new Error(
          `${path.basename(command)} ${commandArgs.join(' ')} exited ${result.status}: ${`${result.stderr}${result.stdout}`.trim().split('\n').slice(-3).join(' ')}`,
        );
    }
    rmSync(SEED_COPY, { recursive: true, force: true });
    renameSync(building, SEED_COPY);
    return { dir: SEED_COPY };
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    return { reason: `could not be built: ${(error as Error).message}` };
  }
}

/** Counts the stacks and roles a synth wrote, to check the benchmark measured real work. */
function countOutput(outdir: string): { stacks: number; roles: number } {
  const stacksDir = path.join(outdir, 'stacks');
  const stacks = readdirSync(stacksDir);
  const roles = stacks.reduce((sum, stack) => {
    const file = path.join(stacksDir, stack, 'cdk.tf.json');
    if (!existsSync(file)) return sum;
    const json = JSON.parse(readFileSync(file, 'utf8'));
    return sum + Object.keys(json.resource?.aws_iam_role ?? {}).length;
  }, 0);
  return { stacks: stacks.length, roles };
}

async function main(): Promise<void> {
  const synth = path.join(ROOT, 'dist', 'main.js');
  const floor = path.join(ROOT, 'dist', 'bench', 'floor.js');
  if (!existsSync(synth)) throw new Error('dist/main.js is missing: run the benchmark with `npm run bench`, which builds it');
  // The floor imports what the synth's own files import, bundled as scripts/synth.js bundles the synth;
  // both bundles must then hold the same node_modules files (a check of this derivation, not a list to keep).
  const synthMetafile = await bundle({ entryPoints: ['main.ts'], write: false, logLevel: 'silent' });
  const entries = dependencyEntries(synthMetafile);
  const stdin = { contents: floorEntry(entries), resolveDir: ROOT, sourcefile: 'floor-entry.ts', loader: 'ts' } as const;
  const floorMetafile = await bundle({ stdin, outfile: floor });
  const [mainFiles, floorFiles] = [packageFiles(synthMetafile), packageFiles(floorMetafile)];
  if (JSON.stringify(mainFiles) !== JSON.stringify(floorFiles)) {
    const only = (a: string[], b: string[]) =>
      a
        .filter((f) => !b.includes(f))
        .slice(0, 5)
        .join(', ') || '-';
    throw new Error(
      `the floor must load the synth's modules:\n  only in the synth: ${only(mainFiles, floorFiles)}\n  only in the floor: ${only(floorFiles, mainFiles)}`,
    );
  }
  const mainModules = [...new Set(mainFiles.map(packageOf))].sort();
  const floorImports = entries.map((file) => file.replace(/^node_modules\//, '').replace(/\/index\.js$/, ''));
  const loads = `${mainFiles.length} files of ${mainModules.length} packages`;
  process.stderr.write(`bench: the floor imports the synth's ${entries.length} entries into node_modules (${loads})\n`);
  const seed = prepareSeed();
  if ('reason' in seed) process.stderr.write(`bench: the seed's AWS CDK app is not timed: ${seed.reason}\n`);

  const scratch = mkdtempSync(path.join(os.tmpdir(), 'bitbucket-oidc-bench-'));
  try {
    const example = JSON.parse(readFileSync(path.join(ROOT, 'config', 'example.json'), 'utf8'));
    const configs: { name: string; file: string; config: { accounts: { roles?: unknown[] }[] } }[] = [
      { name: 'example', file: path.join(ROOT, 'config', 'example.json'), config: example },
    ];
    for (const [roles, accounts, pipeline] of SCALES) {
      const config = generateConfig({ roles, accounts, seed: roles, customAudiences: ['bitbucket-ci'], allowAllEvery: 50, pipeline }) as {
        accounts: { roles?: unknown[] }[];
      };
      const file = path.join(scratch, `roles-${roles}.json`);
      writeFileSync(file, JSON.stringify(config, null, 2));
      configs.push({ name: `${roles} roles${pipeline ? ', pipeline' : ''}`, file, config });
    }

    // Every command, with what it must write; all are warmed up, then run in rounds (each command
    // once per round), so a burst of load on the machine affects every scenario alike.
    const floorOut = path.join(scratch, 'floor.out');
    // At least one stack per account and every configured role (stacks may add their own, such as pipeline roles).
    const writes = (name: string, outdir: string, roles: number, accounts: number) => () => {
      const written = countOutput(outdir);
      return written.roles >= roles && written.stacks >= accounts && written.stacks % accounts === 0
        ? undefined
        : `${name}: expected ${accounts} accounts' stacks and at least ${roles} roles, the synth wrote ${written.stacks} stacks and ${written.roles} roles`;
    };
    const exampleRoles = example.accounts.reduce((sum: number, a: { roles?: unknown[] }) => sum + (a.roles ?? []).length, 0);
    const npmOut = path.join(scratch, 'npm-synth.out');
    const commands: Command[] = [
      {
        name: 'floor (empty app)',
        roles: 0,
        accounts: 1,
        command: process.execPath,
        args: [floor, floorOut],
        env: {},
        cwd: ROOT,
        check: () => undefined,
      },
      ...configs.map(({ name, file, config }): Command => {
        const outdir = path.join(scratch, `${name.replace(/\s/g, '-')}.out`);
        const roles = config.accounts.reduce((sum, a) => sum + (a.roles ?? []).length, 0);
        return {
          name: `synth: ${name}`,
          roles,
          accounts: config.accounts.length,
          command: process.execPath,
          args: [synth],
          env: { BITBUCKET_OIDC_CONFIG: file, CDKTF_OUTDIR: outdir },
          cwd: ROOT,
          check: writes(name, outdir, roles, config.accounts.length),
        };
      }),
      {
        name: 'npm run --silent synth: example',
        roles: exampleRoles,
        accounts: example.accounts.length,
        command: 'npm',
        args: ['run', '--silent', 'synth'],
        env: { BITBUCKET_OIDC_CONFIG: path.join(ROOT, 'config', 'example.json'), CDKTF_OUTDIR: npmOut },
        cwd: ROOT,
        check: writes('npm run synth', npmOut, exampleRoles, example.accounts.length),
      },
      ...('dir' in seed
        ? [
            {
              name: "seed's AWS CDK app (node dist/main.js)",
              roles: 1,
              accounts: 1,
              command: process.execPath,
              args: ['dist/main.js'],
              env: {},
              cwd: seed.dir,
              check: () =>
                existsSync(path.join(seed.dir, 'cdk.out', 'bitbucket-oidc.template.json'))
                  ? undefined
                  : "the seed's app wrote no cdk.out/bitbucket-oidc.template.json",
            },
          ]
        : []),
    ];
    process.stderr.write('bench: warm-up');
    for (const command of commands) {
      measure(command.command, command.args, command.env, scratch, command.cwd);
      const problem = command.check();
      if (problem !== undefined) throw new Error(problem);
      process.stderr.write('.');
    }
    const samples: Sample[][] = commands.map(() => []);
    for (let round = 1; round <= RUNS; round++) {
      process.stderr.write(`\nbench: round ${round}/${RUNS}`);
      commands.forEach((command, i) => {
        samples[i].push(measure(command.command, command.args, command.env, scratch, command.cwd));
        process.stderr.write('.');
      });
    }
    process.stderr.write('\n');
    const scenarios: Scenario[] = commands.map(({ name, roles, accounts }, i) => {
      const ms = samples[i].map((s) => s.ms);
      const rss = samples[i].map((s) => s.rssMb);
      return {
        name,
        roles,
        accounts,
        medianMs: round(median(ms)),
        minMs: round(Math.min(...ms)),
        maxMs: round(Math.max(...ms)),
        medianRssMb: round(median(rss), 1),
        maxRssMb: round(Math.max(...rss), 1),
        samples: samples[i].map((s) => ({ ms: round(s.ms, 1), rssMb: round(s.rssMb, 1) })),
      };
    });

    let npmTest: { ms: number; exitCode: number | null } | undefined;
    if (!SKIP_TEST) {
      process.stderr.write('bench: npm test (once) ...\n');
      const start = process.hrtime.bigint();
      const result = spawnSync('npm', ['test', '--silent'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
      npmTest = { ms: round(Number(process.hrtime.bigint() - start) / 1e6), exitCode: result.status };
    }

    const floorMs = scenarios[0].medianMs;
    const byName = (name: string) => scenarios.find((s) => s.name === name)!;
    const thousand = scenarios.find((s) => s.name === 'synth: 1000 roles'); // absent in --quick
    const fiveThousand = scenarios.find((s) => s.name === 'synth: 5000 roles, pipeline'); // absent in --quick
    const perRole = (s: Scenario) => (s.medianMs - floorMs) / s.roles;
    const npmSynth = byName('npm run --silent synth: example');
    const seedApp = scenarios.find((s) => s.name.startsWith("seed's"));
    const checks = {
      exampleOverFloor: { value: round(byName('synth: example').medianMs / floorMs, 2), target: `<= ${TARGETS.exampleOverFloor}` },
      ...(thousand === undefined
        ? {}
        : {
            thousandRolesMs: { value: thousand.medianMs, target: `<= ${TARGETS.thousandRolesMs}` },
            thousandRolesRssMb: { value: thousand.medianRssMb, target: `<= ${TARGETS.thousandRolesMb}` },
          }),
      ...(fiveThousand === undefined || thousand === undefined
        ? {}
        : {
            fiveThousandRolesMs: { value: fiveThousand.medianMs, target: `<= ${TARGETS.fiveThousandRolesMs}` },
            fiveThousandRolesRssMb: { value: fiveThousand.medianRssMb, target: `<= ${TARGETS.fiveThousandRolesMb}` },
            perRoleGrowth: { value: round(perRole(fiveThousand) / perRole(thousand), 2), target: `<= ${TARGETS.perRoleGrowth}` },
          }),
      ...(seedApp === undefined
        ? {}
        : { npmSynthOverSeed: { value: round(npmSynth.medianMs / seedApp.medianMs, 3), target: `<= ${TARGETS.npmSynthOverSeed}` } }),
      ...(npmTest === undefined ? {} : { npmTestMs: { value: npmTest.ms, target: `< ${TARGETS.npmTestMs}` } }),
    };
    const met = {
      exampleOverFloor: checks.exampleOverFloor.value <= TARGETS.exampleOverFloor,
      ...(thousand === undefined
        ? {}
        : {
            thousandRolesMs: thousand.medianMs <= TARGETS.thousandRolesMs,
            thousandRolesRssMb: thousand.medianRssMb <= TARGETS.thousandRolesMb,
          }),
      ...(fiveThousand === undefined || thousand === undefined
        ? {}
        : {
            fiveThousandRolesMs: fiveThousand.medianMs <= TARGETS.fiveThousandRolesMs,
            fiveThousandRolesRssMb: fiveThousand.medianRssMb <= TARGETS.fiveThousandRolesMb,
            perRoleGrowth: perRole(fiveThousand) / perRole(thousand) <= TARGETS.perRoleGrowth,
          }),
      ...(seedApp === undefined ? {} : { npmSynthOverSeed: npmSynth.medianMs / seedApp.medianMs <= TARGETS.npmSynthOverSeed }),
      ...(npmTest === undefined ? {} : { npmTestMs: npmTest.ms < TARGETS.npmTestMs && npmTest.exitCode === 0 }),
    };

    const header = ['scenario', 'roles', 'accounts', 'median ms', 'range ms', 'x floor', 'median peak RSS MB'];
    const rows = scenarios.map((s) => [
      s.name,
      String(s.roles),
      String(s.accounts),
      String(s.medianMs),
      `${s.minMs}-${s.maxMs}`,
      (s.medianMs / floorMs).toFixed(2),
      Number.isNaN(s.medianRssMb) ? '-' : s.medianRssMb.toFixed(1),
    ]);
    if (npmTest !== undefined) rows.push([`npm test (once, exit ${npmTest.exitCode})`, '', '', String(npmTest.ms), '', '', '']);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    const table = [
      line(header),
      `|${widths.map((w, i) => `${i === 0 ? ':' : '-'}${'-'.repeat(w)}${i === 0 ? '-' : ':'}`).join('|')}|`,
      ...rows.map(line),
    ].join('\n');

    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    };
    process.stdout.write(`\n${table}\n\n`);
    const rssSource = useTime ? '/usr/bin/time -f %M' : 'process.resourceUsage().maxRSS';
    const method = RUNS === 1 ? 'One round after one warm-up run each' : `Medians of ${RUNS} interleaved rounds after one warm-up run each`;
    process.stdout.write(`${method}; peak RSS from ${rssSource}; ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}.\n`);
    if (QUICK) process.stdout.write('--quick: a check that the benchmark runs, not a measurement (run `npm run bench` for figures).\n');
    process.stdout.write(
      seedApp === undefined
        ? `npm run synth ${npmSynth.medianMs} ms; the seed's AWS CDK app was not timed (${'reason' in seed ? seed.reason : ''}).\n`
        : `npm run synth ${npmSynth.medianMs} ms vs the seed's AWS CDK app ${seedApp.medianMs} ms (same rounds): ${(npmSynth.medianMs / seedApp.medianMs).toFixed(3)}x.\n`,
    );
    for (const [key, check] of Object.entries(checks)) {
      const verdict = QUICK && !CHECK ? 'not judged (--quick)' : met[key as keyof typeof met] ? 'met' : 'MISSED';
      process.stdout.write(`target ${key}: ${check.value} (${check.target}) ${verdict}\n`);
    }

    const results = {
      date: new Date().toISOString(),
      machine,
      runs: RUNS,
      quick: QUICK,
      rssSource,
      modules: mainModules,
      floorImports,
      seed: 'dir' in seed ? { dir: seed.dir } : { skipped: seed.reason },
      scenarios,
      npmTest: npmTest ?? null,
      checks,
      met,
    };
    mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
    writeFileSync(path.join(ROOT, RESULTS_FILE), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`Written to ${RESULTS_FILE}\n`);
    if (CHECK && Object.values(met).some((ok) => !ok)) process.exitCode = 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    if (!useTime) rmSync(RSS_HOOK, { force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`\nbench: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
