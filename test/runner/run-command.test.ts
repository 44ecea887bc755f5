import { startJobServer, type JobServer } from "../helpers/job-server.js";
import { startPostgres, type PostgresServer } from "../helpers/postgres.js";
import { runCli as cli } from "../support/cli.js";

// `flyte-connect run` as a user runs it: a child process, its stdout and stderr, its exit code, Ctrl-C.

let db: PostgresServer;
let api: JobServer;

beforeAll(async () => {
  [db, api] = await Promise.all([startPostgres({ maxConnections: 40 }), startJobServer()]);
});

afterAll(async () => {
  await Promise.all([db?.stop(), api?.stop()]);
});

const runCli = (args: readonly string[], env?: NodeJS.ProcessEnv) => cli(["run", ...args], env);

const POSTGRES = ["--no-builtins", "--modules", "./test/connectors/postgres/fixtures/postgres-connectors.ts", "-t", "postgres"];
const HTTP_JOB = ["--no-builtins", "--modules", "./test/runner/fixtures/http-job-connectors.ts", "-t", "http_job"];

/** The custom a Python user's PostgreSQL task carries: the query, the connection configs, the secret's name. */
function postgresCustom(query: string): string {
  return JSON.stringify({
    query,
    configs: { host: db.host, port: String(db.port), database: db.database, user: db.user },
    secrets: { password: "PG_TASK_PASSWORD" },
  });
}

function jobCustom(): string {
  return JSON.stringify({
    headers: { authorization: "Bearer {{secrets.token}}" },
    submit: { url: "{{{configs.base_url}}}/api/jobs", body: { numbers: "{{inputs.numbers}}", run_ms: "{{inputs.run_ms}}" } },
    job_id: "/job/id",
    status: "{{{configs.base_url}}}/api/jobs/{{job_id}}",
    state: "/state",
    cancel: { method: "POST", url: "{{{configs.base_url}}}/api/jobs/{{job_id}}/cancel" },
    outputs: { total: "/result/total" },
    log_links: [{ name: "Job console", url: "{{{configs.base_url}}}/console/{{job_id}}" }],
    configs: { base_url: api.url },
    secrets: { token: "JOB_API_TOKEN" },
  });
}

describe("flyte-connect run", () => {
  test("runs a PostgreSQL query end to end and prints its outputs as JSON", async () => {
    const run = runCli(
      [
        ...POSTGRES,
        "--custom",
        postgresCustom("SELECT n, n * n AS square FROM generate_series(1, %(k)s) n"),
        "--inputs",
        '{"k": 3}',
        "--outputs",
        '{"n": "list[int]", "square": "int"}',
        "--poll-interval",
        "100ms",
      ],
      { PG_TASK_PASSWORD: db.password },
    );
    expect(await run.exited).toBe(0);
    expect(JSON.parse(run.stdout())).toEqual({ n: [1, 2, 3], square: 1 });
    expect(run.stderr()).toMatch(/created the job \(metadata \d+ bytes\)/);
    expect(run.stderr()).toMatch(/SUCCEEDED {2}query succeeded in [\d.]+ s: 3 rows/);
    expect(run.stderr() + run.stdout()).not.toContain(db.password);
  }, 60_000);

  test("a failing query exits 1 with the database's message", async () => {
    const run = runCli([...POSTGRES, "--custom", postgresCustom("SELECT FROM WHERE"), "--outputs", '{"x": "int"}', "--poll-interval", "100ms"], {
      PG_TASK_PASSWORD: db.password,
    });
    expect(await run.exited).toBe(1);
    expect(run.stdout()).toBe("");
    expect(run.stderr()).toContain('FAILED: query failed: syntax error at or near "WHERE" (SQLSTATE 42601)');
  }, 60_000);

  test("shows log links and progress, prints the whole result with --json", async () => {
    const run = runCli(
      [
        ...HTTP_JOB,
        "--custom",
        jobCustom(),
        "--inputs",
        '{"numbers": [4, 5], "run_ms": 300}',
        "--outputs",
        '{"total": "int"}',
        "--poll-interval",
        "100ms",
        "--json",
      ],
      {
        JOB_API_TOKEN: api.token,
      },
    );
    expect(await run.exited).toBe(0);
    const result = JSON.parse(run.stdout());
    expect(result).toMatchObject({
      phase: "SUCCEEDED",
      outputs: { total: 9 },
      log_links: [{ name: "Job console", uri: expect.stringMatching(/\/console\/job-\d+$/) }],
    });
    expect(run.stderr()).toMatch(/log: Job console {2}http:\/\/127\.0\.0\.1:\d+\/console\/job-\d+/);
    expect(run.stderr()).toMatch(/RUNNING {2}job job-\d+: RUNNING/);
  }, 60_000);

  test("Ctrl-C deletes the job before exiting 130", async () => {
    const run = runCli(
      [...HTTP_JOB, "--custom", jobCustom(), "--inputs", '{"numbers": [1], "run_ms": 600000}', "--outputs", '{"total": "int"}', "--poll-interval", "100ms"],
      {
        JOB_API_TOKEN: api.token,
      },
    );
    await run.waitForStderr(/RUNNING {2}job job-\d+/);
    const jobId = /job (job-\d+)/.exec(run.stderr())![1]!;
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toContain("interrupted: deleting the job");
    expect(api.requests.some((r) => r.method === "POST" && r.path === `/api/jobs/${jobId}/cancel`)).toBe(true);
    expect(api.jobs.get(jobId)?.cancelled).toBe(true);
  }, 60_000);

  test("--timeout bounds the run: the job is deleted and the exit code is 124", async () => {
    const run = runCli(
      [
        ...HTTP_JOB,
        "--custom",
        jobCustom(),
        "--inputs",
        '{"numbers": [1], "run_ms": 600000}',
        "--outputs",
        '{"total": "int"}',
        "--poll-interval",
        "100ms",
        "--timeout",
        "1s",
      ],
      {
        JOB_API_TOKEN: api.token,
      },
    );
    expect(await run.exited).toBe(124);
    expect(run.stderr()).toContain("timed out: deleting the job");
    const jobId = /job (job-\d+)/.exec(run.stderr())![1]!;
    expect(api.jobs.get(jobId)?.cancelled).toBe(true);
  }, 60_000);

  test("usage errors exit 2 with a message", async () => {
    const unknownType = runCli(["-t", "no_such_type"]);
    const badJson = runCli([...POSTGRES, "--inputs", "{not json"]);
    const noSecret = runCli([...POSTGRES, "--custom", postgresCustom("SELECT 1")]);
    expect(await unknownType.exited).toBe(2);
    expect(unknownType.stderr()).toContain("Cannot find connector for task type: no_such_type and version: 0");
    expect(await badJson.exited).toBe(2);
    expect(badJson.stderr()).toContain("--inputs is not JSON");
    // Secrets come from the environment only; a missing one stops the run before anything starts.
    expect(await noSecret.exited).toBe(2);
    expect(noSecret.stderr()).toContain('custom["secrets"]: secret "password" reads the environment variable PG_TASK_PASSWORD, which is not set');
  }, 60_000);
});
