import { HttpJobConnector } from "../../src/connectors/http-job/http-job-connector.js";
import { localTaskFrom } from "../../src/runner/local-task.js";
import { runConnector, type RunProgress } from "../../src/runner/run-connector.js";
import { startJobServer, type JobServer } from "../helpers/job-server.js";

let api: JobServer;
beforeAll(async () => {
  api = await startJobServer();
});
afterAll(async () => {
  await api?.stop();
});

function jobTask(runMs: number, outputs: Record<string, string> = { total: "int" }) {
  return localTaskFrom({
    taskType: "http_job",
    custom: {
      headers: { authorization: "Bearer {{secrets.token}}" },
      submit: { url: "{{{configs.base_url}}}/api/jobs", body: { numbers: "{{inputs.numbers}}", run_ms: runMs } },
      job_id: "/job/id",
      status: "{{{configs.base_url}}}/api/jobs/{{job_id}}",
      state: "/state",
      cancel: { method: "POST", url: "{{{configs.base_url}}}/api/jobs/{{job_id}}/cancel" },
      outputs: Object.fromEntries(Object.keys(outputs).map((name) => [name, `/result/${name}`])),
    },
    inputs: { numbers: [2, 3, 4] },
    outputTypes: outputs,
  });
}

const connection = () => ({ configs: { base_url: api.url }, secrets: { token: api.token } });

describe("runConnector", () => {
  test("creates, polls with backoff to a terminal phase, and returns typed outputs", async () => {
    const task = jobTask(300);
    const events: RunProgress["kind"][] = [];
    const result = await runConnector({
      connector: new HttpJobConnector(),
      ...task,
      ...connection(),
      pollIntervalMs: 50,
      onProgress: (e) => events.push(e.kind),
    });
    expect(result).toMatchObject({ phase: "SUCCEEDED", outputs: { total: 9n } });
    expect(result.interrupted).toBeUndefined();
    expect(events[0]).toBe("created");
    expect(events.slice(1).every((k) => k === "polled")).toBe(true);
    // Inputs reached the job API as the service would pass them: integers, by name.
    const submitted = api.requests.filter((r) => r.method === "POST" && r.path === "/api/jobs").at(-1)!;
    expect(JSON.parse(submitted.body)).toEqual({ numbers: [2, 3, 4], run_ms: 300 });
  });

  test("aborting the signal deletes the job and reports the interruption", async () => {
    const controller = new AbortController();
    const result = await runConnector({
      connector: new HttpJobConnector(),
      ...jobTask(600_000),
      ...connection(),
      signal: controller.signal,
      pollIntervalMs: 50,
      onProgress: (e) => {
        if (e.kind === "polled" && e.resource.phase === "RUNNING") controller.abort();
      },
    });
    expect(result).toMatchObject({ phase: "ABORTED", interrupted: "signal", message: "interrupted; the job was deleted" });
    const job = [...api.jobs.values()].at(-1)!;
    expect(job.cancelled).toBe(true);
  });

  test("the timeout deletes the job too", async () => {
    const result = await runConnector({ connector: new HttpJobConnector(), ...jobTask(600_000), ...connection(), pollIntervalMs: 50, timeoutMs: 400 });
    expect(result).toMatchObject({ phase: "ABORTED", interrupted: "timeout" });
    expect([...api.jobs.values()].at(-1)!.cancelled).toBe(true);
  });

  test("outputs that do not fit the declared types fail the run, as they would fail the task", async () => {
    const result = await runConnector({ connector: new HttpJobConnector(), ...jobTask(50, { label: "int" }), ...connection(), pollIntervalMs: 50 });
    expect(result.phase).toBe("FAILED");
    expect(result.message).toContain("returned outputs that do not fit the task interface");
    expect(result.message).toContain("output 'label'");
  });
});
