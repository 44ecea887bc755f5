import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { Health, HealthCheckResponse_ServingStatus as S } from "../../src/gen/health/v1/health_pb.js";
import * as v1 from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../src/gen/grpc/reflection/v1alpha/reflection_pb.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcJsClient, grpcStatusOf } from "../helpers/grpc-js-client.js";
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc.close();
});

describe("grpc.health.v1.Health (grpc-js, as Kubernetes' gRPC probe)", () => {
  test("Check: SERVING for the server and each service, NOT_FOUND for others", async () => {
    const health = grpcJsClient(Health, svc.address);
    try {
      for (const service of [
        "",
        "flyteidl2.connector.AsyncConnectorService",
        "flyteidl2.connector.ConnectorMetadataService",
        "flyteidl.service.AsyncAgentService",
        "flyteidl.service.SyncAgentService",
        "flyteidl.service.AgentMetadataService",
        "grpc.health.v1.Health",
      ]) {
        expect((await health.check({ service })).status).toBe(S.SERVING);
      }
      expect((await grpcStatusOf(health.check({ service: "no.such.Service" }))).code).toBe(status.NOT_FOUND);
    } finally {
      health.close();
    }
  });

  test("Watch: sends the status, then each change, and SERVICE_UNKNOWN for unknown services", async () => {
    const health = grpcJsClient(Health, svc.address);
    try {
      const watch = health.watch({ service: "flyteidl2.connector.AsyncConnectorService" })[Symbol.asyncIterator]();
      expect((await watch.next()).value?.status).toBe(S.SERVING);
      svc.server.health.set("flyteidl2.connector.AsyncConnectorService", S.NOT_SERVING);
      expect((await watch.next()).value?.status).toBe(S.NOT_SERVING);
      svc.server.health.set("flyteidl2.connector.AsyncConnectorService", S.SERVING);
      expect((await watch.next()).value?.status).toBe(S.SERVING);
      await watch.return?.();
      const unknown = health.watch({ service: "nope" })[Symbol.asyncIterator]();
      expect((await unknown.next()).value?.status).toBe(S.SERVICE_UNKNOWN);
      await unknown.return?.();
    } finally {
      health.close();
    }
  });
});

/** One reflection round trip over a grpc-js bidi stream with raw protobuf-es bytes. */
async function reflect<T extends typeof v1 | typeof v1alpha>(version: T, requests: object[]): Promise<unknown[]> {
  const client = new grpc.Client(svc.address, grpc.credentials.createInsecure());
  const path = `/${version.ServerReflection.typeName}/ServerReflectionInfo`;
  const reqSchema = version.ServerReflectionRequestSchema;
  const resSchema = version.ServerReflectionResponseSchema;
  const call = client.makeBidiStreamRequest(
    path,
    (m: object) => Buffer.from(toBinary(reqSchema as typeof v1.ServerReflectionRequestSchema, create(reqSchema as typeof v1.ServerReflectionRequestSchema, m))),
    (b: Buffer) => fromBinary(resSchema as typeof v1.ServerReflectionResponseSchema, b),
  );
  const out: unknown[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on("data", (d: unknown) => out.push(d));
    call.on("end", () => resolve());
    call.on("error", reject);
  });
  for (const r of requests) call.write(r);
  call.end();
  await done;
  client.close();
  return out;
}

describe.each([
  ["v1", v1],
  ["v1alpha", v1alpha],
] as const)("server reflection %s", (_name, version) => {
  test("lists the services and returns a service's file with its dependencies", async () => {
    const [list, byService, again, missing] = (await reflect(version, [
      { messageRequest: { case: "listServices", value: "" } },
      { messageRequest: { case: "fileContainingSymbol", value: "flyteidl2.connector.AsyncConnectorService.CreateTask" } },
      { messageRequest: { case: "fileByFilename", value: "flyteidl2/connector/service.proto" } },
      { messageRequest: { case: "fileContainingSymbol", value: "no.such.Thing" } },
    ])) as v1.ServerReflectionResponse[];
    expect(list!.messageResponse.case === "listServicesResponse" && list!.messageResponse.value.service.map((s) => s.name)).toEqual([
      "flyteidl.service.AgentMetadataService",
      "flyteidl.service.AsyncAgentService",
      "flyteidl.service.SyncAgentService",
      "flyteidl2.connector.AsyncConnectorService",
      "flyteidl2.connector.ConnectorMetadataService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
    const files =
      byService!.messageResponse.case === "fileDescriptorResponse"
        ? byService!.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name)
        : [];
    expect(files[0]).toBe("flyteidl2/connector/service.proto");
    expect(files).toEqual(expect.arrayContaining(["flyteidl2/connector/connector.proto", "flyteidl2/core/literals.proto", "google/protobuf/struct.proto"]));
    // Files already sent on this stream are not sent again.
    expect(again!.messageResponse.case === "fileDescriptorResponse" && again!.messageResponse.value.fileDescriptorProto).toEqual([]);
    expect(missing!.messageResponse.case).toBe("errorResponse");
  });
});
