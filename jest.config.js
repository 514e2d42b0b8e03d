/** jest with the @swc/jest transform (see ../shared/LOCAL-STACK.md §7); type checking is `tsc --noEmit`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // @middy/* and fauxqs are ESM-only: let swc transform them to CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|fauxqs)/)'],
  // fauxqs exports only an `import` condition, which jest's CommonJS resolver does not match.
  moduleNameMapper: { '^fauxqs$': '<rootDir>/node_modules/fauxqs/dist/app.js' },
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  testTimeout: 30000,
  // One DynamoDB Local for the whole run; its endpoint reaches the workers as XC_TEST_DYNAMODB_ENDPOINT.
  globalSetup: '<rootDir>/test/global-setup.ts',
  // Logs at WARN and no Powertools empty-metrics lines unless a test asks (test/quiet-output.ts).
  setupFiles: ['<rootDir>/test/quiet-output.ts'],
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
