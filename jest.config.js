// @ts-check
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // tsconfig.json sets isolatedModules, so ts-jest only transpiles: fast. Types are checked
    // once for the whole project by `tsc --noEmit` in `npm test`, before jest runs.
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // The examples import the package by name, as users do (tsconfig.json `paths` does the same for tsc).
  moduleNameMapper: {
    '^sessionvault$': '<rootDir>/lib/index.ts',
    '^sessionvault/(cache|store|middleware)$': '<rootDir>/lib/$1/index.ts',
  },
  globalSetup: '<rootDir>/__tests__/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/__tests__/helpers/global-teardown.ts',
  testTimeout: 30_000,
  // Each worker gets Redis servers of its own (see global-setup.ts); servers given in the
  // environment are shared, so the files then run one at a time.
  maxWorkers: process.env.REDIS_URL || process.env.REDIS_CLUSTER_NODES ? 1 : 2,
  // A worker's heap grows with each test file it runs (`--logHeapUsage`: 80 MB after one store
  // file, 460 MB after all 29), and a Node process tears a bigger heap down more slowly when it
  // exits: its `exit` event came 1 to 2 ms after jest asked it to end, the process was gone 430
  // to 800 ms later for heaps of 430 to 750 MB, past the 500 ms jest waits by default before it
  // force-exits a worker. A worker past this much after a file is replaced by a fresh one, and
  // one that is exiting gets this long: a handle left open would still keep it alive past it.
  workerIdleMemoryLimit: '300MB',
  workerGracefulExitTimeout: 3_000,
}
