/**
 * Running the real `terraform` binary from tests: offline, quiet, isolated from the user's CLI
 * configuration, and never more than a few processes at a time.
 */
import { spawn, spawnSync } from 'child_process';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { hermeticEnv } from '../hermetic-env';

/** One finished `terraform` command. */
export interface TerraformRun {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** The `terraform` on the PATH, or why there is none usable. */
export function findTerraform(): { version: string } | { missing: string } {
  const result = spawnSync('terraform', ['version', '-json'], { encoding: 'utf8', env: hermeticEnv({ CHECKPOINT_DISABLE: '1' }) });
  if (result.error !== undefined || result.status !== 0) {
    return { missing: `terraform is not on the PATH (${result.error?.message ?? result.stderr.trim()}); install Terraform >= 1.10 to run the Terraform acceptance suite` };
  }
  return { version: (JSON.parse(result.stdout) as { terraform_version: string }).terraform_version };
}

/**
 * A `describe` that needs the real `terraform`: run with its version when it is on the PATH; without
 * it, a failing test under `CI=true` (CI must never skip Terraform silently), else skipped with the
 * reason printed (a user's clone may have no Terraform).
 */
export function describeWithTerraform(title: (version: string) => string, body: (version: string) => void): void {
  const found = findTerraform();
  if (!('missing' in found)) {
    describe(title(found.version), () => body(found.version));
  } else if (process.env.CI === 'true') {
    describe(title('(missing)'), () => {
      it('finds terraform on the PATH (required in CI)', () => {
        throw new Error(found.missing);
      });
    });
  } else {
    console.warn(`Skipping "${title('')}": ${found.missing}`);
    describe.skip(`${title('')} (skipped: no terraform on the PATH)`, () => {
      it('runs terraform', () => undefined);
    });
  }
}

/**
 * The environment of every command: no version check or telemetry (`CHECKPOINT_DISABLE`), output for
 * machines (`TF_IN_AUTOMATION`), no prompt, no debug log, and an empty CLI configuration in `dir` (so a
 * developer's `~/.terraformrc`, plugin cache or provider mirrors cannot change the result).
 */
export function terraformEnv(dir: string): NodeJS.ProcessEnv {
  const cliConfig = path.join(dir, 'terraformrc');
  writeFileSync(cliConfig, '');
  return { ...hermeticEnv(), CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0', TF_CLI_CONFIG_FILE: cliConfig };
}

/** Runs `terraform <args>` in `cwd`; resolves when it exits (never rejects on a non-zero exit). */
export function terraform(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<TerraformRun> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn('terraform', [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const done = (code: number | null, extra = '') =>
      resolve({
        args,
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8') + extra,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
    child.on('error', (error) => done(null, error.message));
    child.on('close', (code) => done(code));
  });
}

/**
 * Runs `task` on every item, at most `concurrency` at a time, in lanes: a lane runs one task at a
 * time, and the task is told its lane (0 to concurrency - 1). Results come in the items' order.
 */
export async function inPool<T, R>(items: readonly T[], concurrency: number, task: (item: T, lane: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (number: number) => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], number);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, (_, number) => lane(number)));
  return results;
}

/** A failed command as a readable message: the command, its exit code and what it printed. */
export function describeFailure(run: TerraformRun, where: string): string {
  const output = `${run.stderr}\n${run.stdout}`.trim().split('\n').slice(-40).join('\n');
  return `terraform ${run.args.join(' ')} (in ${where}) exited with ${run.code}:\n${output}`;
}
