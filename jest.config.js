/** jest with the @swc/jest transform (see ../shared/LOCAL-STACK.md §7); type checking is `tsc --noEmit`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // @middy/* is ESM-only: let swc transform it to CommonJS for jest on Node 20.
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  testTimeout: 30000,
};
