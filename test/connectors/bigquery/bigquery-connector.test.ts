import type { MessageInitShape } from "@bufbuild/protobuf";
import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import type { LiteralSchema } from "#idl/flyteidl2/core/literals_pb.js";
import { type LiteralTypeSchema, SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import * as grpc from "@grpc/grpc-js";
import { BigQueryConnector } from "../../../src/connectors/bigquery/bigquery-connector.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { grpcJsClient, grpcStatusOf } from "../../helpers/grpc-js-client.js";
import { startBundledReplica } from "../../helpers/bundled-cli.js";
import { pollTask } from "../../support/task-polling.js";
import { INTEGER, STRING, intLiteral, stringLiteral } from "../../support/tasks.js";
import {
  DATAFRAME,
  pollWith,
  pythonDatasetLiteralJson,
  resultsLiteralJson,
  sqlTaskRequest,
  startWarehouseService,
  type WarehouseService,
} from "../../helpers/warehouse-service.js";
import { startBigQueryServer, type BigQueryServer } from "./bigquery-server.js";

type LiteralTypeInit = MessageInitShape<typeof LiteralTypeSchema>;
type LiteralInit = MessageInitShape<typeof LiteralSchema>;

const CATEGORY = { name: "bigquery_query_job_task", version: 0 };
const DATETIME: LiteralTypeInit = { type: { case: "simple", value: SimpleType.DATETIME } };
const listOf = (t: LiteralTypeInit): LiteralTypeInit => ({ type: { case: "collectionType", value: t } });
const intList = (ns: number[]): LiteralInit => ({ value: { case: "collection", value: { literals: ns.map(intLiteral) } } });
const datetimeLiteral = (iso: string): LiteralInit => {
  const ms = Date.parse(iso);
  return {
    value: {
      case: "scalar",
      value: {
        value: { case: "primitive", value: { value: { case: "datetime", value: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 } } } },
      },
    },
  };
};

let bq: BigQueryServer;
let svc: WarehouseService;
let poll: ReturnType<typeof pollWith>;
let replicaOutput = "";

beforeAll(async () => {
  bq = await startBigQueryServer();
  // A short budget and attempt timeout keep the "unavailable" and "hanging" cases quick.
  svc = await startWarehouseService(new BigQueryConnector({ apiEndpoint: bq.url, callBudget: { budgetMs: 2000, requestTimeoutMs: 500 } }));
  poll = pollWith(svc, { category: CATEGORY, connection: { configs: {}, secrets: { google_application_credentials: bq.serviceAccount.json } } });
});

afterAll(async () => {
  await svc?.close();
  await bq?.close();
});

/** The `custom` BigQueryTask writes: Location, ProjectID, Domain, the QueryJobConfig's query keys, secrets. */
function bigQueryTask(
  statement: string,
  options: { custom?: Record<string, unknown>; withKey?: boolean; inputs?: Parameters<typeof sqlTaskRequest>[0]["inputs"] } = {},
) {
  return sqlTaskRequest({
    type: "bigquery_query_job_task",
    statement,
    inputs: options.inputs ?? {},
    outputs: { results: DATAFRAME },
    custom: {
      Location: "US",
      ProjectID: "my-gcp-project",
      Domain: "development",
      useQueryCache: false,
      secrets: { google_application_credentials: "bq-sa-key" },
      ...options.custom,
    },
    // The executor replaced the secret's name by its value: the service-account JSON.
    secrets: options.withKey === false ? {} : { google_application_credentials: bq.serviceAccount.json },
  });
}

const deleteTask = (meta: Uint8Array, secrets: Record<string, string> = { google_application_credentials: bq.serviceAccount.json }) =>
  svc.client.deleteTask({ taskCategory: CATEGORY, resourceMeta: meta, connection: { secrets, configs: {} } }, { timeoutMs: 10_000 });

const metaOf = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as { job_id: string };

describe("BigQuery connector through the service, against a local BigQuery REST API", () => {
  test("a BigQueryTask with typed parameters: Create → Get until DONE → Delete twice; the destination table as bq://", async () => {
    const request = bigQueryTask("SELECT * FROM `my-gcp-project.sales.orders` WHERE ds = @ds AND id IN UNNEST(@ids) AND ts > @since LIMIT @limit", {
      inputs: {
        ds: { type: STRING, literal: stringLiteral("2024-01-01") },
        ids: { type: listOf(INTEGER), literal: intList([3, 5, 8]) },
        since: { type: DATETIME, literal: datetimeLiteral("2024-01-01T06:30:00.250Z") },
        limit: { type: INTEGER, literal: intLiteral(10) },
      },
    });
    const created = await svc.client.createTask(request, { timeoutMs: 10_000 });
    const jobId = metaOf(created.resourceMeta).job_id;
    // Exactly the Python connector's metadata bytes: json.dumps(asdict(BigQueryMetadata(...))).
    expect(new TextDecoder().decode(created.resourceMeta)).toBe(
      `{"job_id": "${jobId}", "project": "my-gcp-project", "location": "US", "user_agent": "Flyte/2.0.0 (GPN:Union;development)"}`,
    );

    const { resource, phases } = await poll(created.resourceMeta);
    expect(phases).toEqual(["INITIALIZING", "RUNNING", "SUCCEEDED"]);
    expect(resultsLiteralJson(resource)).toEqual(pythonDatasetLiteralJson(`bq://my-gcp-project:_a1b2c3anon.anon_${jobId}`));
    expect(resource.logLinks.map((l) => ({ name: l.name, uri: l.uri, ready: l.ready }))).toEqual([
      { name: "BigQuery Console", uri: `https://console.cloud.google.com/bigquery?project=my-gcp-project&j=bq:US:${jobId}&page=queryresults`, ready: true },
    ]);

    const job = bq.jobs.get(`my-gcp-project/${jobId}`)!;
    expect(job.userAgent).toBe("Flyte/2.0.0 (GPN:Union;development)");
    expect(job.query["useQueryCache"]).toBe(false);
    expect(job.query["useLegacySql"]).toBe(false);
    expect(job.query["parameterMode"]).toBe("NAMED");
    // Bound by the declared types, in the interface's order (sorted by name, as flyte-sdk writes it).
    expect(job.query["queryParameters"]).toEqual([
      { name: "ds", parameterType: { type: "STRING" }, parameterValue: { value: "2024-01-01" } },
      {
        name: "ids",
        parameterType: { type: "ARRAY", arrayType: { type: "INT64" } },
        parameterValue: { arrayValues: [{ value: "3" }, { value: "5" }, { value: "8" }] },
      },
      { name: "limit", parameterType: { type: "INT64" }, parameterValue: { value: "10" } },
      { name: "since", parameterType: { type: "DATETIME" }, parameterValue: { value: "2024-01-01T06:30:00.250000" } },
    ]);
    await deleteTask(created.resourceMeta);
    await deleteTask(created.resourceMeta);
    // A finished job is not cancelled: it stays DONE.
    expect((await poll(created.resourceMeta)).phases).toEqual(["SUCCEEDED"]);
  });

  test("a destination table from QueryJobConfig is kept and becomes the output URI", async () => {
    const created = await svc.client.createTask(
      bigQueryTask("SELECT 1 AS x", {
        custom: { destinationTable: { projectId: "output-project", datasetId: "output_dataset", tableId: "output_table" }, writeDisposition: "WRITE_TRUNCATE" },
      }),
    );
    const { resource } = await poll(created.resourceMeta);
    expect(resultsLiteralJson(resource)).toEqual(pythonDatasetLiteralJson("bq://output-project:output_dataset.output_table"));
    expect(bq.jobs.get(`my-gcp-project/${metaOf(created.resourceMeta).job_id}`)!.query["writeDisposition"]).toBe("WRITE_TRUNCATE");
  });

  test("a failed query is FAILED with BigQuery's errorResult; non-fatal errors do not fail a job", async () => {
    const failed = await svc.client.createTask(bigQueryTask("SELECT nope FROM t -- FAIL_QUERY"));
    const f = await poll(failed.resourceMeta);
    expect(f.phases.at(-1)).toBe("FAILED");
    expect(f.resource.message).toBe("invalidQuery: Unrecognized name: nope at [1:8]");
    const warned = await svc.client.createTask(bigQueryTask("SELECT 1 -- WARN"));
    expect((await poll(warned.resourceMeta)).phases.at(-1)).toBe("SUCCEEDED");
  });

  test("DeleteTask cancels a running job (jobs.cancel); the job then reads ABORTED; a second delete is fine", async () => {
    const created = await svc.client.createTask(bigQueryTask("SELECT COUNT(*) FROM huge -- RUN_LONG"));
    await poll(created.resourceMeta, (r) => r.phase === TaskExecution_Phase.RUNNING);
    await deleteTask(created.resourceMeta);
    const jobId = metaOf(created.resourceMeta).job_id;
    expect(bq.jobs.get(`my-gcp-project/${jobId}`)!.cancelled).toBe(true);
    expect(bq.requests.filter((r) => r.path.endsWith(`/jobs/${jobId}/cancel`) && r.query.get("location") === "US").length).toBe(1);
    const { phases, resource } = await poll(created.resourceMeta);
    expect(phases).toEqual(["ABORTED"]);
    expect(resource.message).toBe("stopped: Job execution was cancelled: User requested cancellation");
    await deleteTask(created.resourceMeta);
  });

  test("a repeated CreateTask names the same job and inserts it once", async () => {
    const request = bigQueryTask("SELECT 2");
    const a = await svc.client.createTask(request);
    const b = await svc.client.createTask(request);
    expect(new TextDecoder().decode(b.resourceMeta)).toBe(new TextDecoder().decode(a.resourceMeta));
    expect([...bq.jobs.values()].filter((j) => j.jobId === metaOf(a.resourceMeta).job_id)).toHaveLength(1);
  });

  test("429, 503 and 403 rateLimitExceeded are retried inside one call; a hanging answer is given up and retried", async () => {
    const created = await svc.client.createTask(bigQueryTask("SELECT 3"));
    await poll(created.resourceMeta);
    const before = bq.requests.length;
    bq.failNext(1, 429, { error: { code: 429, message: "Too many requests", status: "RESOURCE_EXHAUSTED" } });
    bq.failNext(1, 503, { error: { code: 503, message: "Backend error", status: "UNAVAILABLE" } });
    bq.failNext(1, 403, { error: { code: 403, message: "Exceeded rate limits", errors: [{ reason: "rateLimitExceeded" }], status: "PERMISSION_DENIED" } });
    bq.hangNext(1);
    const { phases } = await poll(created.resourceMeta);
    expect(phases).toEqual(["SUCCEEDED"]);
    expect(bq.requests.length - before).toBe(5);
  });

  test("BigQuery unavailable for the whole budget: RETRYABLE_FAILED, not an RPC error; CreateTask and DeleteTask fail so the executor retries", async () => {
    const created = await svc.client.createTask(bigQueryTask("SELECT 4"));
    bq.failNext(1000, 503, { error: { code: 503, message: "Backend error", status: "UNAVAILABLE" } });
    try {
      const down = await poll(created.resourceMeta);
      expect(down.phases).toEqual(["RETRYABLE_FAILED"]);
      expect(down.resource.message).toMatch(
        /^could not read the job: BigQuery at http:\/\/127\.0\.0\.1:\d+\/ is unavailable: GET .* failed \d+ times in [\d.]+ s; last: HTTP 503/,
      );
      const create = await grpcStatusOf(svc.client.createTask(bigQueryTask("SELECT 5")));
      expect(create.code).toBe(grpc.status.INTERNAL);
      expect(create.details).toContain("could not submit the query job");
      svc.saw(create.details);
      expect((await grpcStatusOf(deleteTask(created.resourceMeta))).code).toBe(grpc.status.INTERNAL);
    } finally {
      bq.failNext(0, 503);
    }
  });

  test("a refused insert is CreateTask OK and a FAILED task with BigQuery's message; DeleteTask calls nothing; a task without ProjectID is INVALID_ARGUMENT", async () => {
    bq.failNext(
      1,
      403,
      {
        error: {
          code: 403,
          message: "Access Denied: Project my-gcp-project: User does not have bigquery.jobs.create permission",
          errors: [{ reason: "accessDenied" }],
          status: "PERMISSION_DENIED",
        },
      },
      /\/jobs$/,
    );
    const refused = await svc.client.createTask(bigQueryTask("SELECT 6"));
    const stored = JSON.parse(new TextDecoder().decode(refused.resourceMeta)) as Record<string, unknown>;
    expect(Object.keys(stored)).toEqual(["job_id", "project", "location", "user_agent", "failure"]);
    const before = bq.requests.length;
    const failed = await poll(refused.resourceMeta);
    expect(failed.phases).toEqual(["FAILED"]);
    expect(failed.resource.message).toBe(
      "BigQuery refused the query job: HTTP 403 PERMISSION_DENIED: Access Denied: Project my-gcp-project: User does not have bigquery.jobs.create permission",
    );
    svc.saw(failed.resource.message);
    await deleteTask(refused.resourceMeta);
    await deleteTask(refused.resourceMeta);
    expect(bq.requests.length).toBe(before);
    // A submitted job's metadata has no such key: the Python connector's bytes.
    const normal = await svc.client.createTask(bigQueryTask("SELECT 6"));
    expect(new TextDecoder().decode(normal.resourceMeta)).not.toContain("failure");
    const noProject = await grpcStatusOf(svc.client.createTask(bigQueryTask("SELECT 7", { custom: { ProjectID: null } })));
    expect(noProject.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noProject.details).toContain('custom["ProjectID"] is missing');
  });

  test("a job the Python connector started is polled and cancelled from its metadata", async () => {
    bq.seedJob("my-gcp-project", "bqjob_r1", "US", "SELECT * FROM big -- RUN_LONG");
    const pythonMeta = new TextEncoder().encode(
      '{"job_id": "bqjob_r1", "project": "my-gcp-project", "location": "US", "user_agent": "Flyte/2.0.0 (GPN:Union;development)"}',
    );
    const running = await poll(pythonMeta, (r) => r.phase === TaskExecution_Phase.RUNNING);
    expect(running.resource.logLinks[0]!.uri).toBe("https://console.cloud.google.com/bigquery?project=my-gcp-project&j=bq:US:bqjob_r1&page=queryresults");
    await deleteTask(pythonMeta);
    await deleteTask(pythonMeta);
    expect(bq.jobs.get("my-gcp-project/bqjob_r1")!.cancelled).toBe(true);
    expect((await poll(pythonMeta)).phases).toEqual(["ABORTED"]);
    // Python writes a missing location as null.
    bq.seedJob("my-gcp-project", "bqjob_r2", "US", "SELECT 1");
    const noLocation = new TextEncoder().encode(
      '{"job_id": "bqjob_r2", "project": "my-gcp-project", "location": null, "user_agent": "Flyte/2.0.0 (GPN:Union;)"}',
    );
    const done = await poll(noLocation);
    expect(done.phases.at(-1)).toBe("SUCCEEDED");
    expect(done.resource.logLinks[0]!.uri).toContain("&j=bq:None:bqjob_r2&");
  });

  test("without a key, Application Default Credentials: the bundled CLI, alone in a directory as in the image, configured by its environment (GKE workload identity)", async () => {
    // The CLI as the image holds it — the bundle and its chunks, no node_modules — with the BigQuery endpoint
    // and the metadata server both served by the local server: google-auth-library loads from its chunk.
    const replica = await startBundledReplica({ GCE_METADATA_HOST: `127.0.0.1:${bq.port}`, BIGQUERY_EMULATOR_HOST: bq.url });
    const client = grpcJsClient(AsyncConnectorService, replica.address);
    try {
      const created = await client.createTask(bigQueryTask("SELECT 8", { withKey: false }), { timeoutMs: 10_000 });
      const { phases, resource } = await pollTask(client, created.resourceMeta, {
        category: CATEGORY,
        connection: { configs: {}, secrets: {} },
        intervalMs: 50,
      });
      expect(phases).toEqual(["INITIALIZING", "RUNNING", "SUCCEEDED"]);
      const jobId = metaOf(created.resourceMeta).job_id;
      expect(resultsLiteralJson(resource)).toEqual(pythonDatasetLiteralJson(`bq://my-gcp-project:_a1b2c3anon.anon_${jobId}`));
      const insert = bq.requests.find((r) => r.method === "POST" && r.path.endsWith("/jobs") && r.body.includes(jobId))!;
      expect(bq.issuedTokens).toContain(insert.headers.authorization!.slice("Bearer ".length));
      await client.deleteTask({ taskCategory: CATEGORY, resourceMeta: created.resourceMeta }, { timeoutMs: 10_000 });
    } finally {
      client.close();
      replicaOutput = await replica.stop();
    }
  }, 60_000);

  test("no credential reaches the logs, messages or metadata", () => {
    const written = svc.everythingWritten() + replicaOutput;
    expect(written.length).toBeGreaterThan(1000);
    const key = JSON.parse(bq.serviceAccount.json) as { private_key: string; private_key_id: string };
    const keyBody = key.private_key.split("\n")[5]!;
    const bearerTokens = bq.requests.map((r) => r.headers.authorization?.slice(7)).filter((t): t is string => !!t);
    expect(bearerTokens.length).toBeGreaterThan(10);
    for (const secret of [keyBody, key.private_key_id, ...new Set(bearerTokens), ...bq.issuedTokens]) expect(written).not.toContain(secret);
  });
});
