// @ts-check
/**
 * Jest globalTeardown, the guard against leaking temp folders: fails the run when a test left a
 * `cdktf.outdir.*` folder (what cdktf's `Testing.app()` and `Testing.fullSynth()` create), lists
 * anything else left, then removes the run's temp folder (see `temp-folder.setup.js`) either way.
 */
const fs = require('fs');

module.exports = function checkTestTempFolder() {
  const folder = process.env.BITBUCKET_OIDC_JEST_TMPDIR;
  if (folder === undefined) return;
  const original = process.env.BITBUCKET_OIDC_JEST_ORIGINAL_TMPDIR;
  if (original) process.env.TMPDIR = original;
  else delete process.env.TMPDIR;
  const left = fs.readdirSync(folder).sort();
  fs.rmSync(folder, { recursive: true, force: true });

  const outdirs = left.filter((name) => name.startsWith('cdktf.outdir.'));
  const others = left.filter((name) => !name.startsWith('cdktf.outdir.'));
  if (others.length > 0) {
    process.stderr.write(
      `\nnote: the tests left ${others.length} other entr${others.length === 1 ? 'y' : 'ies'} in their temp folder (now removed): ${others.slice(0, 10).join(', ')}${others.length > 10 ? ', ...' : ''}\n`,
    );
  }
  if (outdirs.length > 0) {
    throw new Error(
      `the tests left ${outdirs.length} cdktf.outdir.* folder(s) in the temp folder (now removed). ` +
        'A test created a cdktf app output folder and did not remove it: give Testing.app() an outdir you remove ' +
        '(as __tests__/support/synth.ts does), or remove the folder Testing.fullSynth() returns.',
    );
  }
};
