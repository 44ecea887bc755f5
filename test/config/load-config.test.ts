import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFromServeArgs, SERVE_USAGE } from "../../src/cli/serve-command.js";
import { ConfigError, DEFAULT_CONFIG } from "../../src/config/config.js";
import { loadConfig } from "../../src/config/load-config.js";
import { SETTINGS } from "../../src/config/settings.js";

const dir = mkdtempSync(join(tmpdir(), "fc-config-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const TOKEN = "tok-0123456789abcdef-PLANTED";
const KEY = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

/** Every problem of a configuration that does not load. */
function problemsOf(f: () => unknown): readonly string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  test("nothing given: the defaults, frozen", () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual({ ...DEFAULT_CONFIG, tls: undefined });
    expect(config.metricsPort).toBe(9090);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.connectorLimits)).toBe(true);
  });

  test("flags win over the environment, which wins over the file", () => {
    const cfg = file("precedence.json", JSON.stringify({ port: 1111, metricsPort: 2222, logLevel: "debug", maxConnections: 5 }));
    const env = { FLYTE_CONNECT_CONFIG: cfg, FLYTE_CONNECT_PORT: "3333", FLYTE_CONNECT_METRICS_PORT: "4444" };
    const config = loadConfig({ env, flags: { port: "5555" } });
    expect([config.port, config.metricsPort, config.logLevel, config.maxConnections]).toEqual([5555, 4444, "debug", 5]);
    // --config beats FLYTE_CONNECT_CONFIG too.
    const other = file("other.json", JSON.stringify({ maxConnections: 6 }));
    expect(loadConfig({ env, flags: { config: other } }).maxConnections).toBe(6);
  });

  test("every problem of every source at once, each naming where it came from", () => {
    const cfg = file("bad.json", JSON.stringify({ port: "8000", colour: "blue", connectorLimits: { sleep: { maxConcurrency: -1, burst: 3 } } }));
    const problems = problemsOf(() =>
      loadConfig({
        env: { FLYTE_CONNECT_CONFIG: cfg, FLYTE_CONNECT_METRICS_PORT: "ninety", FLYTE_CONNECT_BUILTINS: "maybe" },
        flags: { "max-connections": "-3", "tls-key": join(dir, "missing.pem") },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        `${cfg}: port must be a number, got "8000"`,
        expect.stringMatching(new RegExp(`^${cfg}: unknown setting "colour"`)),
        'FLYTE_CONNECT_METRICS_PORT must be a whole number, got "ninety"',
        'FLYTE_CONNECT_BUILTINS must be true or false, got "maybe"',
        expect.stringMatching(/^--tls-key: cannot read .*missing\.pem \(ENOENT\)$/),
        "a TLS key and a TLS certificate go together (--tls-key and --tls-cert)",
        "maxConnections must be an integer from 0 to 1000000, got -3 (set by --max-connections)",
        `connectorLimits.sleep.burst is not a setting (maxConcurrency, timeoutMs) (set by ${cfg}: connectorLimits)`,
        `connectorLimits.sleep.maxConcurrency must be an integer from 0 to 1000000, got -1 (set by ${cfg}: connectorLimits)`,
      ]),
    );
    expect(problems).toHaveLength(9);
  });

  test("an unreadable or malformed config file is a problem, not a crash", () => {
    expect(problemsOf(() => loadConfig({ env: {}, flags: { config: join(dir, "nope.json") } }))).toEqual([expect.stringMatching(/cannot read it \(ENOENT\)/)]);
    const broken = file("broken.json", "{ port: 1 ");
    expect(problemsOf(() => loadConfig({ env: {}, flags: { config: broken } }))).toEqual([expect.stringMatching(/is not valid JSON/)]);
    const list = file("list.json", "[1]");
    expect(problemsOf(() => loadConfig({ env: {}, flags: { config: list } }))).toEqual([expect.stringMatching(/must hold a JSON object/)]);
  });

  test("bearer tokens from the environment and from a file (one per line, comments skipped), never quoted in errors", () => {
    const tokens = file("tokens", `# current\n${TOKEN}\n\nnext-token-0123456789\n`);
    const config = loadConfig({ env: { FLYTE_CONNECT_AUTH_TOKEN: "env-token-0123456789" }, flags: { "auth-token-file": tokens } });
    expect(config.authTokens).toEqual(["env-token-0123456789", TOKEN, "next-token-0123456789"]);

    const weak = file("weak", "short-PLANTED\n");
    const problems = problemsOf(() => loadConfig({ env: {}, flags: { "auth-token-file": weak } }));
    expect(problems).toEqual([expect.stringMatching(/^auth token 1 must be at least 16 printable ASCII characters/)]);
    expect(problems.join("\n")).not.toContain("PLANTED");

    const empty = file("empty-tokens", "# nothing yet\n");
    expect(problemsOf(() => loadConfig({ env: {}, flags: { "auth-token-file": empty } }))).toEqual([expect.stringMatching(/holds no token/)]);
    // A token written into the config file itself is refused: config files end up in ConfigMaps and repositories.
    const inFile = file("token-in-file.json", JSON.stringify({ authToken: TOKEN }));
    const refused = problemsOf(() => loadConfig({ env: {}, flags: { config: inFile } }));
    expect(refused).toEqual([expect.stringMatching(/authToken may not be written in a config file/)]);
    expect(refused.join("\n")).not.toContain(TOKEN);
  });

  test("per task type limits from the file or as JSON in the environment", () => {
    const cfg = file("limits.json", JSON.stringify({ connectorLimits: { postgres: { maxConcurrency: 8 } }, connectorTimeoutMs: 5000 }));
    expect(loadConfig({ env: {}, flags: { config: cfg } }).connectorLimits).toEqual({ postgres: { maxConcurrency: 8 } });
    const fromEnv = loadConfig({ env: { FLYTE_CONNECT_CONNECTOR_LIMITS: '{"sleep":{"timeoutMs":100}}' } });
    expect(fromEnv.connectorLimits).toEqual({ sleep: { timeoutMs: 100 } });
    expect(problemsOf(() => loadConfig({ env: { FLYTE_CONNECT_CONNECTOR_LIMITS: "{sleep" } }))).toEqual([
      expect.stringMatching(/^FLYTE_CONNECT_CONNECTOR_LIMITS must be JSON/),
    ]);
  });

  test("TLS files, with a client CA for mutual TLS", () => {
    const key = file("key.pem", KEY);
    const cert = file("cert.pem", CERT);
    const ca = file("ca.pem", CERT);
    const config = loadConfig({ env: { FLYTE_CONNECT_TLS_CLIENT_CA_FILE: ca }, flags: { "tls-key": key, "tls-cert": cert } });
    expect(config.tls).toEqual({ key: KEY, cert: CERT, clientCa: CERT });
    expect(problemsOf(() => loadConfig({ env: {}, flags: { "tls-client-ca": ca } }))).toEqual([expect.stringMatching(/needs TLS/)]);
  });

  test("cross-field checks: metrics port vs port, headers vs request timeout", () => {
    expect(problemsOf(() => loadConfig({ env: {}, flags: { port: "9090" } }))).toEqual(["metricsPort must differ from port (both are 9090)"]);
    expect(loadConfig({ env: {}, flags: { port: "9090", "no-metrics": true } }).metricsEnabled).toBe(false);
    expect(problemsOf(() => loadConfig({ env: {}, flags: { "headers-timeout-ms": "5000", "request-timeout-ms": "1000" } }))).toEqual([
      "headersTimeoutMs (5000) must not exceed requestTimeoutMs (1000) (set by --headers-timeout-ms)",
    ]);
  });

  test("the metrics port listens where the service does unless told otherwise", () => {
    expect(loadConfig({ env: {}, flags: { host: "127.0.0.1" } }).metricsHost).toBe("127.0.0.1");
    expect(loadConfig({ env: { FLYTE_CONNECT_METRICS_HOST: "0.0.0.0" }, flags: { host: "127.0.0.1" } }).metricsHost).toBe("0.0.0.0");
  });
});

describe("serve flags", () => {
  test("the existing flags keep working, and Python's --prometheus_port is accepted", () => {
    const config = configFromServeArgs(
      [
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--modules",
        "a.js,b.js",
        "--modules",
        "c.js",
        "--no-builtins",
        "--cors-origin",
        "*",
        "--prometheus_port",
        "9092",
        "--log-level",
        "warn",
      ],
      { env: {} },
    );
    expect(config).toMatchObject({
      port: 0,
      host: "127.0.0.1",
      modules: ["a.js", "b.js", "c.js"],
      builtins: false,
      corsOrigins: ["*"],
      metricsPort: 9092,
      logLevel: "warn",
    });
  });

  test("an unknown flag is refused", () => {
    expect(() => configFromServeArgs(["--prot", "1"], { env: {} })).toThrow(/Unknown option '--prot'/);
  });

  test("the usage documents every flag and the table names every environment variable once", () => {
    for (const s of SETTINGS) if (s.flag !== undefined) expect(SERVE_USAGE).toContain(`--${s.flag}`);
    const envs = SETTINGS.map((s) => s.env);
    expect(new Set(envs).size).toBe(envs.length);
    for (const env of envs) expect(env).toMatch(/^FLYTE_CONNECT_[A-Z0-9_]+$/);
  });
});
