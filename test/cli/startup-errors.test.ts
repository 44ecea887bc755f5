import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.js";
import { makeTestPki } from "../support/certificates.js";

// Start-up failures an operator fixes with a setting: one line that names the setting, no stack trace, exit 2.

jest.setTimeout(60_000);

/** Holds a loopback port, as a first `npm start` does for a second one. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server };
}

async function failedStart(args: readonly string[]): Promise<string> {
  const cli = runCli(["serve", "--host", "127.0.0.1", ...args]);
  expect(await cli.exited).toBe(2);
  const lines = cli.stderr().trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(cli.stderr()).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

test("the service port in use names --port and FLYTE_CONNECT_PORT", async () => {
  const held = await holdPort();
  try {
    const line = await failedStart(["--port", String(held.port), "--metrics-port", "0"]);
    expect(line).toBe(
      `flyte-connect: the service port ${held.port} on 127.0.0.1 is in use: stop what listens there, or choose another port with --port / FLYTE_CONNECT_PORT`,
    );
  } finally {
    held.server.close();
  }
});

test("the metrics port in use says it is the metrics port and how to move it or turn it off", async () => {
  const held = await holdPort();
  try {
    const line = await failedStart(["--port", "0", "--metrics-port", String(held.port)]);
    expect(line).toContain(`the metrics port ${held.port} on 127.0.0.1 is in use`);
    expect(line).toContain("--metrics-port / FLYTE_CONNECT_METRICS_PORT");
    expect(line).toContain("--no-metrics");
  } finally {
    held.server.close();
  }
});

test("TLS files that look like PEM but hold no key or certificate name --tls-key and --tls-cert", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fc-badtls-"));
  // Garbage without PEM armour is refused by the configuration check; this passes it and fails in OpenSSL.
  writeFileSync(join(dir, "key.pem"), "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
  writeFileSync(join(dir, "cert.pem"), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
  const line = await failedStart(["--port", "0", "--metrics-port", "0", "--tls-key", join(dir, "key.pem"), "--tls-cert", join(dir, "cert.pem")]);
  expect(line).toMatch(
    /^flyte-connect: cannot serve TLS with the given key and certificate \(--tls-key \/ FLYTE_CONNECT_TLS_KEY_FILE, --tls-cert \/ FLYTE_CONNECT_TLS_CERT_FILE\): .+; give PEM files/,
  );
});

test("a key that does not match the certificate is named the same way", async () => {
  const a = makeTestPki();
  const line = await failedStart(["--port", "0", "--metrics-port", "0", "--tls-key", join(a.dir, "client.key"), "--tls-cert", join(a.dir, "server.crt")]);
  expect(line).toContain("cannot serve TLS with the given key and certificate (--tls-key");
});

test("TLS files that are not PEM at all are configuration problems naming the flags that set them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fc-badtls-"));
  writeFileSync(join(dir, "key.pem"), "not a key\n");
  writeFileSync(join(dir, "cert.pem"), "not a certificate\n");
  const cli = runCli(["serve", "--port", "0", "--tls-key", join(dir, "key.pem"), "--tls-cert", join(dir, "cert.pem")]);
  expect(await cli.exited).toBe(2);
  expect(cli.stderr()).toContain("tls.key must be a PEM private key (set by --tls-key)");
  expect(cli.stderr()).toContain("tls.cert must be a PEM certificate (set by --tls-cert)");
  expect(cli.stderr()).not.toMatch(/\n\s+at /);
});
