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
};
