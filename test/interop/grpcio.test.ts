// The other client of the executor's kind: Python grpcio, as flyte-sdk's own tooling and Python callers use
// it (Debian's python3-grpcio, run with /usr/bin/python3). grpcio_client.py drives a sleep task through its
// life and an unknown task type, and prints what it saw; the assertions are here.
import { join, resolve } from "node:path";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { makeTestPki, type FlatTestPki as TestPki } from "../support/certificates.js";
import { writeDescriptorSets, type DescriptorSets } from "./descriptor-set.js";
import { findSystemGrpcio } from "./harness.js";
import { runProcess } from "./run-process.js";

const ROOT = resolve(__dirname, "../..");
const grpcio = findSystemGrpcio();
if (!grpcio.found) console.warn(`test/interop/grpcio.test.ts skipped: ${grpcio.reason}`);

/** Long enough that the first GetTask, right after CreateTask, still finds the sleep RUNNING on a busy machine. */
const SLEEP_S = 3;

interface Outcome {
  code: string;
  details?: string;
  response?: Record<string, unknown>;
}
interface Report {
  grpcio: string;
  list_connectors: Outcome;
  health: Outcome;
  create: Outcome;
  get_polls: { code: string; phase: string | null }[];
  get_final: Outcome;
  delete: Outcome[];
  create_unknown_type: Outcome;
}

for (const transport of ["h2c", "TLS"] as const) {
  const title = `Python grpcio client against the service over ${transport}`;
  if (!grpcio.found) {
    test.skip(`${title}: skipped, ${grpcio.reason}`, () => undefined);
    continue;
  }
  const { python } = grpcio.value;

  describe(title, () => {
    let svc: RunningService;
    let pki: TestPki | undefined;
    let sets: DescriptorSets;
    let report: Report;
    beforeAll(async () => {
      sets = writeDescriptorSets(ROOT);
      if (transport === "TLS") pki = makeTestPki();
      svc = await startService(pki ? { config: { tls: { key: pki.serverKey, cert: pki.serverCert } } } : {});
      const tls = pki ? ["--ca-file", join(pki.dir, "ca.crt"), "--server-name", "localhost"] : [];
      const run = await runProcess(python, [
        join(__dirname, "grpcio_client.py"),
        "--addr",
        svc.address,
        "--seconds",
        String(SLEEP_S),
        "--descriptors",
        sets.flyteidl2,
        sets.health,
        ...tls,
      ]);
      if (run.code !== 0) throw new Error(`grpcio_client.py exited with ${run.code}:\n${run.stderr}`);
      report = JSON.parse(run.stdout) as Report;
    }, 90_000);
    afterAll(async () => {
      await svc?.close();
    });

    test("ListConnectors lists every connector with its task category", () => {
      expect(report.list_connectors).toEqual({
        code: "OK",
        response: {
          connectors: [
            { name: "Sleep Connector", supported_task_categories: [{ name: "sleep" }] },
            { name: "Echo Connector", supported_task_categories: [{ name: "echo" }] },
            { name: "PostgreSQL Connector", supported_task_categories: [{ name: "postgres" }] },
            { name: "HTTP Job Connector", supported_task_categories: [{ name: "http_job" }] },
            { name: "Bigquery Connector", supported_task_categories: [{ name: "bigquery_query_job_task" }] },
            { name: "Snowflake Connector", supported_task_categories: [{ name: "snowflake" }] },
            { name: "Databricks Connector", supported_task_categories: [{ name: "databricks" }] },
            { name: "HTTP Call Connector", supported_task_categories: [{ name: "http_call" }] },
            { name: "Hash Connector", supported_task_categories: [{ name: "hash" }] },
          ],
        },
      });
    });

    test("Health Check of the whole server is SERVING", () => {
      expect(report.health).toEqual({ code: "OK", response: { status: "SERVING" } });
    });

    test("CreateTask returns the sleep's metadata, GetTask goes RUNNING to SUCCEEDED", () => {
      expect(report.create.code).toBe("OK");
      const meta = JSON.parse(Buffer.from(String(report.create.response?.["resource_meta"]), "base64").toString("utf8")) as Record<string, unknown>;
      expect(meta).toEqual({ seconds: SLEEP_S, started_at_ms: expect.any(Number) });
      const phases = report.get_polls.map((p) => `${p.code} ${p.phase}`);
      expect(phases.slice(0, -1).every((p) => p === "OK RUNNING")).toBe(true);
      expect(phases).toContain("OK RUNNING");
      expect(report.get_final).toEqual({ code: "OK", response: { resource: { phase: "SUCCEEDED", message: `slept ${SLEEP_S} s` } } });
    });

    test("DeleteTask answers OK twice for the finished task", () => {
      expect(report.delete).toEqual([
        { code: "OK", response: {} },
        { code: "OK", response: {} },
      ]);
    });

    test("CreateTask of an unknown task type is NOT_FOUND with the Python service's message", () => {
      expect(report.create_unknown_type).toEqual({ code: "NOT_FOUND", details: "Cannot find connector for task type: interop_no_such_type." });
    });
  });
}
