/** The slow fault tests (`npm run test:faults`): private PostgreSQL and Redis servers, real processes. */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: [],
  maxWorkers: 1,
  testTimeout: 180_000,
};
