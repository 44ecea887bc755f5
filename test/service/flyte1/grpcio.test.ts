import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { create, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_flyteidl_service_agent } from "#idl1/flyteidl/service/agent_pb.js";
import { startService, type RunningService } from "../../../src/testing/start-service.js";

/**
 * Flyte 1's lifecycle from Python grpcio (Debian's python3-grpcio, which the test command installs), the stack
 * flytekit and its tools use, with messages built as flytekit builds them: ListAgents, GetAgent, CreateTask,
 * GetTask until terminal, GetTaskLogs, DeleteTask twice, and ExecuteTaskSync.
 */

const PYTHON = "/usr/bin/python3";
const hasGrpcio = (() => {
  try {
    execFileSync(PYTHON, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** The agent protos and every file they import, dependencies first, as a FileDescriptorSet. */
function descriptorSet(): Uint8Array {
  const ordered: DescFile[] = [];
  const visit = (f: DescFile) => {
    if (ordered.includes(f)) return;
    f.dependencies.forEach(visit);
    ordered.push(f);
  };
  visit(file_flyteidl_service_agent);
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: ordered.map((f) => f.proto) }));
}

let svc: RunningService;
beforeAll(async () => {
  svc = await startService();
});
afterAll(async () => {
  await svc.close();
});

const NAME = "the whole Flyte 1 lifecycle and ExecuteTaskSync from Python grpcio";
(hasGrpcio ? test : test.skip)(
  hasGrpcio ? NAME : `${NAME} (skipped: /usr/bin/python3 cannot import grpc; the test command installs python3-grpcio)`,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "fc-grpcio-"));
    const fds = join(dir, "agent.binpb");
    writeFileSync(fds, descriptorSet());
    const { stdout } = await promisify(execFile)(PYTHON, [join(__dirname, "grpcio_client.py"), svc.address, fds], { timeout: 60_000 });
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    expect(seen["agents"]).toContainEqual(["Sleep Connector", false, ["sleep/0"]]);
    expect(seen["agents"]).toContainEqual(["Hash Connector", true, ["hash/0"]]);
    expect(seen["agent"]).toEqual(["Sleep Connector", false]);
    expect(seen["resource_meta"]).toMatch(/^\{"seconds": 3, "started_at_ms": \d+\}$/);
    // [phase, state]: RUNNING(2)/RUNNING(3) while it runs, SUCCEEDED(3)/SUCCEEDED(4) at the end.
    const polls = seen["polls"] as [number, number][];
    expect(polls[0]).toEqual([2, 3]);
    expect(polls.at(-1)).toEqual([3, 4]);
    expect(polls.every(([phase, state]) => (phase === 2 && state === 3) || (phase === 3 && state === 4))).toBe(true);
    expect((seen["logs"] as string[][]).flat()).toEqual(["second 1 of 3", "second 2 of 3", "second 3 of 3", "done after 3 s"]);
    expect(seen["deleted_twice"]).toBe(true);
    expect(seen["sync"]).toEqual([["header", 3, createHash("sha256").update("hello flyte").digest("hex")]]);
    expect(seen["unknown"]).toEqual(["NOT_FOUND", "Cannot find connector for task type: no_such_type."]);
  },
);
