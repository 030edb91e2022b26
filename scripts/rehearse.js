#!/usr/bin/env node
// `npm run rehearse`: runs the rehearsal's TypeScript (__tests__/support/rehearsal/cli.ts) directly,
// each file compiled by esbuild as Node loads it, so the files keep their own paths (the stub provider
// and its protocol files are found next to the code that installs them).
'use strict';
const { readFileSync } = require('fs');
const path = require('path');
const { transformSync } = require('esbuild');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcefile: filename,
    sourcemap: 'inline',
  });
  module._compile(code, filename);
};
process.chdir(path.join(__dirname, '..'));
require('../__tests__/support/rehearsal/cli.ts');
