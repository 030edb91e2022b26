/**
 * `npm run bench`: median wall time and peak RSS of the synth (`node dist/main.js`, as the pipeline
 * runs it) for the bundled example and for generated configurations of 10, 100 and 1,000 roles spread
 * over several accounts, side by side with the floor (an empty CDKTF app loading the same modules, see
 * `floor.ts`), and the wall time of `npm test`. Prints a table and writes `bench-results/latest.json`.
 *
 * Method: each command is run once to warm the file cache (and its output checked: the expected
 * number of stacks and roles), then `--runs` rounds (default 5) run every command once each, so load
 * on the machine hits all scenarios alike; the table shows medians (and the range). Wall time is
 * measured around the child process with `process.hrtime`; peak RSS is the child's maximum resident
 * set size as reported by `/usr/bin/time -f %M` (or, where that binary is missing, by
 * `process.resourceUsage().maxRSS` read in the child through a `--require` hook).
 *
 * Options: --runs N, --skip-test (leave out `npm test`), --check (exit 1 when a target is missed).
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { builtinModules } from 'module';
import * as os from 'os';
import * as path from 'path';
import { build } from 'esbuild';
import { generateConfig } from '../__tests__/support/generate-config';

const ROOT = path.resolve(__dirname, '..', '..');
const TIME = '/usr/bin/time';
const args = process.argv.slice(2);
const RUNS = args.includes('--runs') ? Math.max(1, Number(args[args.indexOf('--runs') + 1]) || 5) : 5;
const SKIP_TEST = args.includes('--skip-test');
const CHECK = args.includes('--check');

/** The targets of issue 4, on a 2-core machine. */
const TARGETS = { exampleOverFloor: 1.5, thousandRolesMs: 3000, thousandRolesMb: 300, npmTestMs: 60000 };

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
  writeFileSync(RSS_HOOK, "process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));\n");
}

/** Runs a command once; returns its wall time and peak RSS, or throws when it fails. */
function measure(command: string, commandArgs: string[], env: NodeJS.ProcessEnv, scratch: string): Sample {
  const rssFile = path.join(scratch, `rss-${process.hrtime.bigint()}`);
  const [file, argv] = useTime
    ? [TIME, ['-f', '%M', '-o', rssFile, command, ...commandArgs]]
    : [command, command === process.execPath ? ['--require', RSS_HOOK, ...commandArgs] : commandArgs];
  const start = process.hrtime.bigint();
  const result = spawnSync(file, argv, { cwd: ROOT, env: { ...process.env, ...env, BENCH_RSS_FILE: rssFile }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${command} ${commandArgs.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  }
  const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
  return { ms, rssMb: kb / 1024 };
}

/** The external (non-built-in) modules a bundle of `entry` loads. */
async function externals(entry: string): Promise<string[]> {
  const result = await build({ entryPoints: [entry], bundle: true, platform: 'node', packages: 'external', write: false, metafile: true, logLevel: 'silent' });
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const paths = Object.values(result.metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path));
  // Relative paths listed as external are type-only imports esbuild dropped: not loaded.
  return [...new Set(paths.filter((p) => !builtins.has(p) && !p.startsWith('.')))].sort();
}

/** Counts the stacks and roles a synth wrote, to check the benchmark measured real work. */
function countOutput(outdir: string): { stacks: number; roles: number } {
  const stacksDir = path.join(outdir, 'stacks');
  const stacks = readdirSync(stacksDir);
  const roles = stacks.reduce((sum, stack) => {
    const json = JSON.parse(readFileSync(path.join(stacksDir, stack, 'cdk.tf.json'), 'utf8'));
    return sum + Object.keys(json.resource?.aws_iam_role ?? {}).length;
  }, 0);
  return { stacks: stacks.length, roles };
}

async function main(): Promise<void> {
  const synth = path.join(ROOT, 'dist', 'main.js');
  const floor = path.join(ROOT, 'dist', 'bench', 'floor.js');
  for (const file of [synth, floor]) {
    if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run the benchmark with \`npm run bench\`, which builds it`);
  }
  const [mainModules, floorModules] = await Promise.all([externals(path.join(ROOT, 'main.ts')), externals(path.join(ROOT, 'bench', 'floor.ts'))]);
  if (JSON.stringify(mainModules) !== JSON.stringify(floorModules)) {
    throw new Error(`the floor must load the synth's modules:\n  synth: ${mainModules.join(', ')}\n  floor: ${floorModules.join(', ')}`);
  }

  const scratch = mkdtempSync(path.join(os.tmpdir(), 'bitbucket-oidc-bench-'));
  try {
    const example = JSON.parse(readFileSync(path.join(ROOT, 'config', 'example.json'), 'utf8'));
    const configs: { name: string; file: string; config: { accounts: { roles: unknown[] }[] } }[] = [
      { name: 'example', file: path.join(ROOT, 'config', 'example.json'), config: example },
    ];
    for (const [roles, accounts] of [[10, 2], [100, 5], [1000, 10]]) {
      const config = generateConfig({ roles, accounts, seed: roles, customAudiences: ['bitbucket-ci'], allowAllEvery: 50 }) as { accounts: { roles: unknown[] }[] };
      const file = path.join(scratch, `roles-${roles}.json`);
      writeFileSync(file, JSON.stringify(config, null, 2));
      configs.push({ name: `${roles} roles`, file, config });
    }

    // Every command, with what it must write; all are warmed up, then run in rounds (each command
    // once per round), so a burst of load on the machine affects every scenario alike.
    const floorOut = path.join(scratch, 'floor.out');
    const commands = [
      { name: 'floor (empty app)', roles: 0, accounts: 1, args: [floor, floorOut], env: {}, outdir: floorOut, check: false },
      ...configs.map(({ name, file, config }) => {
        const outdir = path.join(scratch, `${name.replace(/\s/g, '-')}.out`);
        const roles = config.accounts.reduce((sum, a) => sum + a.roles.length, 0);
        return { name: `synth: ${name}`, roles, accounts: config.accounts.length, args: [synth], env: { BITBUCKET_OIDC_CONFIG: file, CDKTF_OUTDIR: outdir }, outdir, check: true };
      }),
    ];
    process.stderr.write('bench: warm-up');
    for (const command of commands) {
      measure(process.execPath, command.args, command.env, scratch);
      const written = countOutput(command.outdir);
      if (command.check && (written.roles !== command.roles || written.stacks !== command.accounts)) {
        throw new Error(`${command.name}: expected ${command.accounts} stacks and ${command.roles} roles, the synth wrote ${written.stacks} and ${written.roles}`);
      }
      process.stderr.write('.');
    }
    const samples: Sample[][] = commands.map(() => []);
    for (let round = 1; round <= RUNS; round++) {
      process.stderr.write(`\nbench: round ${round}/${RUNS}`);
      commands.forEach((command, i) => {
        samples[i].push(measure(process.execPath, command.args, command.env, scratch));
        process.stderr.write('.');
      });
    }
    process.stderr.write('\n');
    const scenarios: Scenario[] = commands.map(({ name, roles, accounts }, i) => {
      const ms = samples[i].map((s) => s.ms);
      const rss = samples[i].map((s) => s.rssMb);
      return {
        name, roles, accounts,
        medianMs: round(median(ms)), minMs: round(Math.min(...ms)), maxMs: round(Math.max(...ms)),
        medianRssMb: round(median(rss), 1), maxRssMb: round(Math.max(...rss), 1),
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
    const thousand = byName('synth: 1000 roles');
    const checks = {
      exampleOverFloor: { value: round(byName('synth: example').medianMs / floorMs, 2), target: `<= ${TARGETS.exampleOverFloor}` },
      thousandRolesMs: { value: thousand.medianMs, target: `<= ${TARGETS.thousandRolesMs}` },
      thousandRolesRssMb: { value: thousand.medianRssMb, target: `<= ${TARGETS.thousandRolesMb}` },
      ...(npmTest === undefined ? {} : { npmTestMs: { value: npmTest.ms, target: `< ${TARGETS.npmTestMs}` } }),
    };
    const met = {
      exampleOverFloor: checks.exampleOverFloor.value <= TARGETS.exampleOverFloor,
      thousandRolesMs: thousand.medianMs <= TARGETS.thousandRolesMs,
      thousandRolesRssMb: thousand.medianRssMb <= TARGETS.thousandRolesMb,
      ...(npmTest === undefined ? {} : { npmTestMs: npmTest.ms < TARGETS.npmTestMs && npmTest.exitCode === 0 }),
    };

    const header = ['scenario', 'roles', 'accounts', 'median ms', 'range ms', 'x floor', 'median peak RSS MB'];
    const rows = scenarios.map((s) => [
      s.name, String(s.roles), String(s.accounts), String(s.medianMs), `${s.minMs}-${s.maxMs}`, (s.medianMs / floorMs).toFixed(2), s.medianRssMb.toFixed(1),
    ]);
    if (npmTest !== undefined) rows.push([`npm test (once, exit ${npmTest.exitCode})`, '', '', String(npmTest.ms), '', '', '']);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    const table = [line(header), `|${widths.map((w, i) => `${i === 0 ? ':' : '-'}${'-'.repeat(w)}${i === 0 ? '-' : ':'}`).join('|')}|`, ...rows.map(line)].join('\n');

    const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGb: round(os.totalmem() / 2 ** 30, 1), node: process.version, platform: `${os.platform()} ${os.release()}` };
    process.stdout.write(`\n${table}\n\n`);
    process.stdout.write(`Medians of ${RUNS} interleaved rounds after one warm-up run each; peak RSS from ${useTime ? '/usr/bin/time -f %M' : 'process.resourceUsage().maxRSS'}; ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}.\n`);
    for (const [key, check] of Object.entries(checks)) {
      process.stdout.write(`target ${key}: ${check.value} (${check.target}) ${met[key as keyof typeof met] ? 'met' : 'MISSED'}\n`);
    }

    const results = {
      date: new Date().toISOString(), machine, runs: RUNS, rssSource: useTime ? '/usr/bin/time -f %M' : 'process.resourceUsage().maxRSS',
      modules: mainModules, scenarios, npmTest: npmTest ?? null, checks, met,
    };
    mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
    writeFileSync(path.join(ROOT, 'bench-results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write('Written to bench-results/latest.json\n');
    if (CHECK && Object.values(met).some((ok) => !ok)) process.exitCode = 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    if (!useTime) rmSync(RSS_HOOK, { force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
