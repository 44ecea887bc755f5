import { status } from "@grpc/grpc-js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { grpcJsClient, grpcStatusOf } from "../helpers/grpc-js-client.js";
import { startServe, runCli } from "../support/cli.js";
import { createTaskRequest } from "../support/tasks.js";

jest.setTimeout(60_000);

test("serve prints the connector table, and SIGTERM lets the call in flight finish, then exits 0", async () => {
  const cli = await startServe(["--no-metrics", "--modules", "./test/fixtures/slow-module.ts"]);
  try {
    const url = cli.url;
    expect(cli.stdout()).toContain("Connector Metadata");
    expect(cli.stdout()).toMatch(/│ Slow Connector\s+│ slow \(0\)\s+│/);
    expect(cli.stdout()).toMatch(/│ Sleep Connector\s+│ sleep \(0\)\s+│/);

    const client = grpcJsClient(AsyncConnectorService, new URL(url).host);
    const inFlight = client.createTask(createTaskRequest({ type: "slow" }));
    await new Promise((r) => setTimeout(r, 300)); // the call is now running inside the connector
    cli.child.kill("SIGTERM");
    const done = await inFlight;
    expect(new TextDecoder().decode(done.resourceMeta)).toBe('{"job_id": "slow-1"}');
    // A call after the signal is refused (UNAVAILABLE) while draining, or finds the port closed.
    const late = await grpcStatusOf(client.createTask(createTaskRequest({ type: "slow" })));
    expect(late.code).toBe(status.UNAVAILABLE);
    client.close();
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain('"msg":"draining"');
  } finally {
    cli.child.kill("SIGKILL");
  }
});

test("a bad flag or configuration exits 2 with every problem named", async () => {
  const cli = runCli(["serve", "--port", "70000", "--log-level", "loud", "--tls-key", "/nonexistent.pem"]);
  expect(await cli.exited).toBe(2);
  expect(cli.stderr()).toContain("port must be an integer from 0 to 65535");
  expect(cli.stderr()).toContain("logLevel must be one of");
  expect(cli.stderr()).toMatch(/--tls-key.*\/nonexistent\.pem.*ENOENT/);
  expect(cli.stderr()).toMatch(/--tls-cert/);
});

test("a module without connectors stops the start", async () => {
  const cli = runCli(["serve", "--port", "0", "--modules", "./test/support/tasks.ts"]);
  expect(await cli.exited).toBe(2);
  expect(cli.stderr()).toContain('must export a non-empty array "connectors"');
});
