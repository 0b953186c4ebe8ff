// @ts-check
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        // An object here is merged over ./tsconfig.json.
        tsconfig: {
          // tsconfig.json sets isolatedModules, which makes ts-jest transpile
          // without type checking; turn it off so type errors fail the run.
          isolatedModules: false,
        },
        // ts-jest warns that module "node16" is only supported with
        // isolatedModules; it compiles tests to CommonJS either way.
        diagnostics: { ignoreCodes: [151002] },
      },
    ],
  },
  globalSetup: '<rootDir>/__tests__/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/__tests__/helpers/global-teardown.ts',
  testTimeout: 30_000,
  maxWorkers: 2,
};
