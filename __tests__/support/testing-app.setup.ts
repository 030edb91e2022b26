/**
 * Jest setupFilesAfterEnv: cdktf's `Testing.app()` without an `outdir` creates a `cdktf.outdir.*`
 * folder in the temp folder and never removes it. Here, in every test file that loads cdktf, such an
 * app gets a folder that is removed after the file's tests; an app given an `outdir` is the caller's
 * to clean. (jest.mock with the real module: cdktf is only loaded by the test files that use it.)
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

const created: string[] = [];
const patched = new WeakSet<object>();

jest.mock('cdktf', () => {
  const cdktf = jest.requireActual<typeof import('cdktf')>('cdktf');
  // cdktf requires itself while it loads: that inner call gets the half-loaded module, the outer one patches it.
  if (cdktf.Testing === undefined || patched.has(cdktf.Testing)) return cdktf;
  patched.add(cdktf.Testing);
  const testingApp = cdktf.Testing.app.bind(cdktf.Testing);
  cdktf.Testing.app = (options = {}) => {
    if (options.outdir !== undefined) return testingApp(options);
    const outdir = mkdtempSync(path.join(tmpdir(), 'cdktf.outdir.'));
    created.push(outdir);
    return testingApp({ ...options, outdir });
  };
  return cdktf;
});

afterAll(() => {
  for (const outdir of created.splice(0)) rmSync(outdir, { recursive: true, force: true });
});
