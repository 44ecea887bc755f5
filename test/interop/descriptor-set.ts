// The FileDescriptorSets that the executor-kind clients (Python grpcio, the acceptance harness's grpc-go
// tools) build their dynamic messages from. @flyteorg/flyteidl2 ships no .proto files, only generated
// TypeScript with each file's descriptor embedded, so the sets are rebuilt from those descriptors: the same
// definitions our server decodes with, from the npm packages pinned in package.json. They are written under
// .tmp/ (gitignored) on every run, never committed.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_flyteidl2_connector_service } from "#idl/flyteidl2/connector/service_pb.js";
import { file_flyteidl_service_agent } from "#idl1/flyteidl/service/agent_pb.js";
import { file_health_v1_health } from "../../src/gen/health/v1/health_pb.js";

/** Paths of the written sets. */
export interface DescriptorSets {
  /** flyteidl2's connector services and everything they import. */
  readonly flyteidl2: string;
  /** Flyte 1's agent services (flyteidl.service) and their imports, from the pinned flyteidl package. */
  readonly flyteidl1: string;
  /**
   * grpc.health.v1 on its own: the harness's tools define Health themselves and refuse a set that defines
   * it again, so it is a separate file that only our Python client loads.
   */
  readonly health: string;
}

/** A FileDescriptorSet of `roots` and their imports, each file after its dependencies. */
export function descriptorSetBytes(roots: readonly DescFile[]): Uint8Array {
  const ordered: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    for (const dep of file.dependencies) visit(dep);
    ordered.push(file);
  };
  for (const root of roots) visit(root);
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: ordered.map((f) => f.proto) }));
}

/** Writes the sets to `<repoRoot>/.tmp/interop/`. */
export function writeDescriptorSets(repoRoot: string): DescriptorSets {
  const dir = join(repoRoot, ".tmp/interop");
  mkdirSync(dir, { recursive: true });
  const sets = { flyteidl2: join(dir, "flyteidl2.binpb"), flyteidl1: join(dir, "flyteidl1.binpb"), health: join(dir, "health.binpb") };
  writeAtomically(sets.flyteidl2, descriptorSetBytes([file_flyteidl2_connector_service]));
  writeAtomically(sets.flyteidl1, descriptorSetBytes([file_flyteidl_service_agent]));
  writeAtomically(sets.health, descriptorSetBytes([file_health_v1_health]));
  return sets;
}

/** Test files run in parallel workers: a client must never read a set that another worker is rewriting. */
function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}
