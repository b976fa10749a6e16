/** One jest run for every workspace. Sources are transformed by swc (fast, no type
 * check); `tsc -b` type-checks everything before the tests run (see `npm test`). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleNameMapper: {
    '^@checkout/(breaker|service-kit|messaging)$': '<rootDir>/shared/$1/src',
    '^@checkout/(payment|inventory|shipping|notification|checkout)$': '<rootDir>/services/$1/src',
  },
  testMatch: ['<rootDir>/shared/*/src/**/*.test.ts', '<rootDir>/shared/*/test/**/*.test.ts', '<rootDir>/services/*/src/**/*.test.ts', '<rootDir>/services/*/test/**/*.test.ts', '<rootDir>/tests/**/*.test.ts', '<rootDir>/infra/src/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  watchman: false,
  // Some whole-system tests leave sockets to RabbitMQ closing in the background; never let them hold CI.
  forceExit: true,
};
