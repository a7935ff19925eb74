/**
 * Tests are TypeScript, transformed by babel-jest (types stripped, no type-check here: `tsc`
 * does that in `npm test`). Not @swc/jest: its platform binaries for other systems are not on
 * every registry, and `npm ci` then rejects the lockfile (same for jest 30's unrs-resolver).
 */
module.exports = {
  testEnvironment: 'node',
  // Rebuilds dist/ when it is older than src/ (the CLI and packed-package tests run dist/).
  globalSetup: '<rootDir>/test/support/fresh-build.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      'babel-jest',
      { presets: [['@babel/preset-typescript', { onlyRemoveTypeImports: false }]], plugins: ['@babel/plugin-transform-modules-commonjs'] },
    ],
  },
};
