/** Tests are TypeScript compiled to CommonJS by swc; vendor/flyteidl2 and vendor/flyteidl are ESM and go through swc too. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  moduleNameMapper: {
    // The README's examples import the package by name; in tests that is the source.
    "^flyte-connect$": "<rootDir>/src/index.ts",
    "^flyte-connect/testing$": "<rootDir>/src/testing.ts",
    "^#idl/(.*)\\.js$": "<rootDir>/vendor/flyteidl2/$1.js",
    "^#idl1/(.*)\\.js$": "<rootDir>/vendor/flyteidl/$1.js",
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  transformIgnorePatterns: ["/node_modules/"],
  transform: {
    "^.+\\.(t|j)s$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript" }, target: "es2022" },
        module: { type: "commonjs" },
      },
    ],
  },
  testTimeout: 30000,
  // Modules of earlier test files stay in a jest process's heap: run in one process (what jest does on two
  // cores), the heap reached 1.2 GB, and the flood and timing-sensitive suites late in the run slowed down
  // with it (a 5 s flood's recovery took 1.7 s, a request waited 12 s). A worker past this much memory after
  // a test file is replaced by a fresh one.
  workerIdleMemoryLimit: "512MB",
};
