/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  // Type-checking is `tsc --noEmit` in `npm test`; with isolatedModules in tsconfig, ts-jest only transpiles.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Jest's default (cores - 1) is one worker on the 2-core CI machine; many suites wait on child
  // processes (terraform, the synth, npm), so two workers finish `npm test` in about 60 s instead of 80 s.
  maxWorkers: 2,
  // No test may leave a cdktf output folder (`cdktf.outdir.*`) in the temp folder: the tests run with
  // a temp folder of their own, and the run fails when one is left in it.
  globalSetup: '<rootDir>/__tests__/support/temp-folder.setup.js',
  globalTeardown: '<rootDir>/__tests__/support/temp-folder.teardown.js',
  setupFilesAfterEnv: ['<rootDir>/__tests__/support/testing-app.setup.ts'],
};
