// One jest run over every workspace. ESM mode (see ../shared/TOOLCHAIN.md): swc strips types only,
// `tsc -p tsconfig.test.json` type-checks the tests separately.
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }];

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts', '<rootDir>/proto/test/**/*.test.ts'],
  moduleNameMapper: {
    '^@corvid/raft$': '<rootDir>/packages/raft/src/index.ts',
    '^@corvid/raft/testing$': '<rootDir>/packages/raft/src/testing/index.ts',
    '^@corvid/proto$': '<rootDir>/proto/src/index.ts',
    '^@corvid/node$': '<rootDir>/packages/node/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // Two cores: two workers. End-to-end suites spawn their own processes on port 0.
  maxWorkers: 2,
  testTimeout: 60_000,
};
