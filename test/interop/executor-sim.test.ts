// The executor's own kind of client: the acceptance harness's grpc-go executor-sim, which calls the service
// the way Flyte 2's connector plugin does (one grpc-go connection, h2c or TLS with ALPN h2, 10 s deadlines,
// the executor's request shapes), runs a scenario and prints PASS/FAIL per check.
import { join, resolve } from "node:path";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { makeTestPki, type FlatTestPki as TestPki } from "../support/certificates.js";
import { writeDescriptorSets } from "./descriptor-set.js";
import { findHarness } from "./harness.js";
import { runProcess } from "./run-process.js";

const ROOT = resolve(__dirname, "../..");
const harness = findHarness(ROOT);
if (!harness.found) console.warn(`test/interop/executor-sim.test.ts skipped: ${harness.reason}`);

/**
 * Resource metadata that the sleep connector decodes but that no CreateTask returned: DeleteTask for it
 * must answer OK (the executor retries a failed delete forever).
 */
const NEVER_CREATED = JSON.stringify({ seconds: 0, started_at_ms: 0 });

const GET_CHECKS = ["get.terminal", "get.no-undefined-phase", "get.no-errors", "get.expected-phase"];
const SCENARIOS = [
  {
    scenario: "default",
    args: ["-input", "seconds=1", "-unknown-meta", NEVER_CREATED],
    checks: [
      "health.overall.serving",
      "health.async-service.serving",
      "health.metadata-service.serving",
      "metadata.list-connectors",
      "metadata.get-connector",
      "create.ok",
      ...GET_CHECKS,
      "delete.after-completion",
      "delete.idempotent",
      "create.unknown-task-type.not-found",
      "get.unknown-task-category.not-found",
      "health.unknown-service.not-found",
      "delete.unknown-job.ok",
    ],
  },
  {
    // Long enough that the job still runs when the executor aborts it.
    scenario: "abort",
    args: ["-input", "seconds=30"],
    checks: ["abort.create.ok", "abort.task-running", "abort.delete.ok", "abort.delete.idempotent"],
  },
  {
    // A 3 MiB string input beside `seconds`, under grpc-go's 4 MiB limit.
    scenario: "large",
    args: ["-input", "seconds=0"],
    checks: ["large.create.ok", ...GET_CHECKS.map((c) => `large.${c}`), "large.delete.ok"],
  },
];

const TRANSPORTS = ["h2c", "TLS"] as const;

for (const transport of TRANSPORTS) {
  const title = `grpc-go executor-sim against the service over ${transport}`;
  if (!harness.found) {
    test.skip(`${title}: skipped, ${harness.reason}`, () => undefined);
    continue;
  }
  const { executorSim } = harness.value;

  describe(title, () => {
    let svc: RunningService;
    let pki: TestPki | undefined;
    let descriptors: string;
    beforeAll(async () => {
      descriptors = writeDescriptorSets(ROOT).flyteidl2;
      if (transport === "TLS") pki = makeTestPki();
      svc = await startService(pki ? { config: { tls: { key: pki.serverKey, cert: pki.serverCert } } } : {});
    });
    afterAll(async () => {
      await svc?.close();
    });

    test.each(SCENARIOS)(
      "$scenario scenario: every check passes",
      async ({ scenario, args, checks }) => {
        const connection = pki ? ["-tls", "-ca-file", join(pki.dir, "ca.crt"), "-server-name", "localhost"] : [];
        const run = await runProcess(executorSim, ["-addr", svc.address, ...connection, "-descriptors", descriptors, "-scenario", scenario, ...args]);
        const report = `${run.stdout}${run.stderr}`;
        const passed = [...run.stdout.matchAll(/^PASS (\S+)$/gm)].map((m) => m[1]);
        const failed = run.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
        expect({ code: run.code, failed, passed: passed.sort() }).toEqual({ code: 0, failed: [], passed: [...checks].sort() });
        expect(report).toContain(`${checks.length} passed, 0 failed`);
      },
      60_000,
    );
  });
}
