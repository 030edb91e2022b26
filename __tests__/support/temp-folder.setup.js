// @ts-check
/**
 * Jest globalSetup: the tests get a temp folder of their own (TMPDIR, read by os.tmpdir() in every
 * worker), so what they leave behind can be counted, and removed, by `temp-folder.teardown.js`, and
 * another run on the same machine cannot be mistaken for this one.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = function createTestTempFolder() {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bitbucket-oidc-jest-'));
  process.env.BITBUCKET_OIDC_JEST_TMPDIR = folder;
  process.env.BITBUCKET_OIDC_JEST_ORIGINAL_TMPDIR = process.env.TMPDIR ?? '';
  process.env.TMPDIR = folder;
};
