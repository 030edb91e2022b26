#!/usr/bin/env node
// @ts-check
/**
 * `npm run synth`, and the app `cdktf synth|diff|deploy` runs (cdktf.json): runs the synth bundle
 * `dist/main.js` in this process, rebuilding it first only when one of its inputs changed.
 *
 *   node scripts/synth.js           rebuild the bundle if it is stale, then synthesize
 *   node scripts/synth.js --build   rebuild the bundle (always) and stop
 *
 * Why a launcher: npm starting a second npm (`npm run build && node dist/main.js`) cost about half the
 * wall time, and bundling the dependencies too (one file instead of ~400 modules to resolve, about
 * 100 ms faster to load) takes esbuild about 150 ms, so it is done only when needed.
 *
 * Stale means: no bundle, or a file esbuild read to make it (its metafile inputs: main.ts, src/**,
 * the node_modules files), tsconfig.json, package.json or this launcher differs in size or mtime from
 * what `dist/main.js.inputs.json` recorded at the last build. A file edited while the build ran leaves
 * no record, so the next run rebuilds again.
 *
 * The bundle runs through `vm.Script` with V8's code cache, which saves compiling it again on every
 * run: `dist/main.js.<flags>.cache`, one per Node.js version and flags (V8 rejects a cache made with
 * other flags, and the cdktf CLI sets NODE_OPTIONS), checked against the bundle's SHA-1.
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const Module = require('module');
const path = require('path');
const vm = require('vm');

const ROOT = path.resolve(__dirname, '..');
const BUNDLE = path.join(ROOT, 'dist', 'main.js');
const STAMP = `${BUNDLE}.inputs.json`;
const RUNTIME = `${process.version} ${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
const CODE_CACHE = `${BUNDLE}.${crypto.createHash('sha1').update(RUNTIME).digest('hex').slice(0, 8)}.cache`;
/** esbuild's options; the stamp records them, so changing them here rebuilds. */
const OPTIONS = { entryPoints: ['main.ts'], bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' };
/** Read by esbuild but not listed among the inputs of its metafile. */
const SETTINGS = ['tsconfig.json', 'package.json', path.relative(ROOT, __filename)];

/** @param {string} message */
function fail(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

/** A file's size and mtime, or undefined when it is missing. @param {string} file */
function fingerprint(file) {
  const stat = fs.statSync(path.resolve(ROOT, file), { throwIfNoEntry: false });
  return stat === undefined ? undefined : `${stat.size}:${stat.mtimeMs}`;
}

/** Writes a file through a temporary one, so a concurrent reader sees the old or the new one, whole. */
function writeAtomically(/** @type {string} */ file, /** @type {string | Uint8Array} */ data) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, file);
}

function isFresh() {
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    return false;
  }
  if (stamp.options !== JSON.stringify(OPTIONS) || stamp.bundle !== fingerprint(BUNDLE)) return false;
  return Object.entries(stamp.inputs).every(([file, recorded]) => fingerprint(file) === recorded);
}

function build() {
  /** @type {typeof import('esbuild')} */
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    return fail('the synth bundle dist/main.js must be rebuilt, but esbuild is not installed: run `npm ci` first');
  }
  fs.mkdirSync(path.dirname(BUNDLE), { recursive: true });
  const started = Date.now();
  const temporary = `${BUNDLE}.${process.pid}.tmp`;
  let result;
  try {
    result = esbuild.buildSync({ ...OPTIONS, absWorkingDir: ROOT, outfile: temporary, metafile: true });
  } catch {
    fs.rmSync(temporary, { force: true });
    return fail('building dist/main.js failed (esbuild printed why above)');
  }
  fs.renameSync(temporary, BUNDLE);
  for (const name of fs.readdirSync(path.dirname(BUNDLE))) {
    if (name.startsWith(`${path.basename(BUNDLE)}.`) && name.endsWith('.cache'))
      fs.rmSync(path.join(path.dirname(BUNDLE), name), { force: true });
  }
  /** @type {Record<string, string>} */
  const inputs = {};
  let editedDuringBuild = false;
  for (const file of [...SETTINGS, ...Object.keys(result.metafile.inputs)]) {
    const stat = fs.statSync(path.resolve(ROOT, file), { throwIfNoEntry: false });
    if (stat === undefined) continue; // not a file (esbuild's virtual modules)
    if (stat.mtimeMs >= started) editedDuringBuild = true;
    inputs[file] = `${stat.size}:${stat.mtimeMs}`;
  }
  if (editedDuringBuild) fs.rmSync(STAMP, { force: true });
  else writeAtomically(STAMP, `${JSON.stringify({ options: JSON.stringify(OPTIONS), bundle: fingerprint(BUNDLE), inputs }, null, 1)}\n`);
}

/** Runs the bundle as Node.js would run `node dist/main.js`, with V8's code cache. */
function run() {
  const source = fs.readFileSync(BUNDLE, 'utf8');
  const key = Buffer.from(`${crypto.createHash('sha1').update(source).digest('hex')} ${RUNTIME}\n`);
  let cachedData;
  try {
    const cache = fs.readFileSync(CODE_CACHE);
    if (cache.subarray(0, key.length).equals(key)) cachedData = cache.subarray(key.length);
  } catch {
    // no cache yet
  }
  const script = new vm.Script(Module.wrap(source), { filename: BUNDLE, cachedData });
  if (cachedData === undefined || script.cachedDataRejected === true) {
    process.once('exit', () => {
      try {
        writeAtomically(CODE_CACHE, Buffer.concat([key, script.createCachedData()]));
      } catch {
        // a read-only dist/ only costs the compile time
      }
    });
  }
  const bundle = new Module(BUNDLE);
  bundle.filename = BUNDLE;
  const compiled = script.runInThisContext();
  compiled.call(bundle.exports, bundle.exports, Module.createRequire(BUNDLE), bundle, BUNDLE, path.dirname(BUNDLE));
}

if (process.argv.includes('--build')) {
  build();
} else {
  if (!isFresh()) build();
  run();
}
