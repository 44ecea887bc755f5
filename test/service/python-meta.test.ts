import { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { AsyncConnectorService } from "#idl/flyteidl2/connector/service_pb.js";
import { AsyncConnector, type Resource } from "../../src/connectors/connector.js";
import { jsonResourceMeta, requireNumber, requireString } from "../../src/connectors/resource-meta.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient, type GrpcJsClient } from "../helpers/grpc-js-client.js";
import { createTaskRequest } from "../support/tasks.js";

/** The metadata of flyte-sdk's example connector: @dataclass BatchJobMetadata(job_id: str, created_at: float). */
interface BatchJobMetadata {
  job_id: string;
  created_at: number;
  region?: string;
}

class BatchJobConnector extends AsyncConnector<BatchJobMetadata> {
  readonly name = "Batch Job Connector";
  readonly taskTypeName = "batch_job";
  override readonly metadata = jsonResourceMeta<BatchJobMetadata>({
    parse: (r) => ({ job_id: requireString(r, "job_id"), created_at: requireNumber(r, "created_at") }),
  });
  readonly seen: BatchJobMetadata[] = [];
  async create(): Promise<BatchJobMetadata> {
    return { job_id: "jöb-1", created_at: 1764190000.25, region: "eu-west-1" };
  }
  async get(meta: BatchJobMetadata): Promise<Resource> {
    this.seen.push(meta);
    return { phase: "SUCCEEDED", message: meta.job_id };
  }
  async delete(meta: BatchJobMetadata): Promise<void> {
    this.seen.push(meta);
  }
}

const connector = new BatchJobConnector();
let svc: RunningService;
let client: GrpcJsClient<typeof AsyncConnectorService>;
beforeAll(async () => {
  svc = await startService({ registry: createConnectorRegistry([connector]) });
  client = grpcJsClient(AsyncConnectorService, svc.address);
});
afterAll(async () => {
  client.close();
  await svc.close();
});

test("metadata is written with the bytes Python's json.dumps would write", async () => {
  const res = await client.createTask(createTaskRequest({ type: "batch_job" }));
  // What `json.dumps({"job_id": "jöb-1", "created_at": 1764190000.25, "region": "eu-west-1"})` prints.
  expect(Buffer.from(res.resourceMeta).toString("latin1")).toBe('{"job_id": "j\\u00f6b-1", "created_at": 1764190000.25, "region": "eu-west-1"}');
});

test("metadata written by the Python service is decoded, unknown keys and all", async () => {
  // A task the Python service started: its dataclass has a field we do not know, and Python wrote NaN.
  const python = Buffer.from('{"job_id": "dummy_id", "created_at": 1700000000.5, "output_path": "/tmp/dummy_id", "score": NaN}', "latin1");
  const got = await client.getTask({ taskCategory: { name: "batch_job", version: 0 }, resourceMeta: python });
  expect(got.resource?.phase).toBe(TaskExecution_Phase.SUCCEEDED);
  expect(got.resource?.message).toBe("dummy_id");
  await client.deleteTask({ taskCategory: { name: "batch_job", version: 0 }, resourceMeta: python });
  expect(connector.seen.slice(-2)).toEqual([
    { job_id: "dummy_id", created_at: 1700000000.5 },
    { job_id: "dummy_id", created_at: 1700000000.5 },
  ]);
});
