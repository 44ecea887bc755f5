import { create } from "@bufbuild/protobuf";
import { LiteralTypeSchema } from "#idl/flyteidl2/core/types_pb.js";
import { SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import { AsyncConnector, type Resource } from "../../../src/connectors/connector.js";

/** The string output `big_output` returns: `bytes` characters, the same every time for one size. */
export function bigOutputText(bytes: number): string {
  const unit = "flyte-connect outputs.pb ";
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

/**
 * A connector whose job SUCCEEDED with one string output `o0` of `bytes` characters, named in its small
 * metadata: a large output without a large input. `offload: true` asks for outputs.pb however small.
 */
export class BigOutputConnector extends AsyncConnector<{ bytes: number; offload?: boolean }> {
  readonly name = "Big Output";
  readonly taskTypeName = "big_output";
  override readonly outputTypes = { o0: create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.STRING } }) };

  async create(): Promise<{ bytes: number }> {
    return { bytes: 0 };
  }

  async get(meta: { bytes: number; offload?: boolean }): Promise<Resource> {
    return { phase: "SUCCEEDED", outputs: { o0: bigOutputText(meta.bytes) }, ...(meta.offload ? { offloadOutputs: true } : {}) };
  }

  async delete(): Promise<void> {}
}
