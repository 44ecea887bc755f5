import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { OutputsSchema } from "#idl/flyteidl2/task/common_pb.js";
import { outputsFromValues, outputTypesFromJson, outputTypesToJson, valuesFromOutputs } from "../literals/convert.js";
import { LiteralError } from "../literals/errors.js";
import type { OutputTypes, Resource } from "./connector.js";
import { jsonResourceMeta, ResourceMetaError, type MetaRecord, type ResourceMetaCodec } from "./resource-meta.js";

/**
 * Resource metadata that holds a finished job's outputs themselves, for connectors whose work is done by the
 * time `create` returns (echo, every sync connector): `flyteidl2.task.Outputs` bytes in base64 with their types,
 * or why there are none. GetTask carries no template, so the types travel with the outputs.
 */
export interface StoredOutputsMeta {
  readonly outputs_b64: string;
  readonly output_types: unknown;
  /** Set when the job failed; `get` reports it as the job's message. */
  readonly error?: string;
  /** With `error`: RETRYABLE_FAILED rather than FAILED. */
  readonly retryable?: boolean;
}

/** Stores output values by their declared types; values that do not fit are the job's failure, not an exception. */
export function storeOutputs(values: Readonly<Record<string, unknown>>, types: OutputTypes): StoredOutputsMeta {
  const output_types = outputTypesToJson(types);
  try {
    return { outputs_b64: Buffer.from(toBinary(OutputsSchema, outputsFromValues(values, types))).toString("base64"), output_types };
  } catch (e) {
    if (!(e instanceof LiteralError)) throw e;
    return { outputs_b64: "", output_types, error: e.message };
  }
}

/** A failed job's metadata: no outputs, the message and whether another attempt may succeed. */
export function storeFailure(message: string, retryable: boolean, types: OutputTypes): StoredOutputsMeta {
  return { outputs_b64: "", output_types: outputTypesToJson(types), error: message, ...(retryable ? { retryable } : {}) };
}

/** The finished job's resource; `describeError` turns a stored error into the user's message. */
export function resourceFromStoredOutputs(meta: StoredOutputsMeta, describeError: (error: string) => string = (e) => e): Resource {
  if (meta.error !== undefined) return { phase: meta.retryable ? "RETRYABLE_FAILED" : "FAILED", message: describeError(meta.error) };
  const outputTypes = outputTypesFromJson(meta.output_types);
  const outputs = fromBinary(OutputsSchema, Buffer.from(meta.outputs_b64, "base64"));
  return { phase: "SUCCEEDED", outputs: valuesFromOutputs(outputs, outputTypes), outputTypes };
}

function parseStoredOutputs(record: MetaRecord): StoredOutputsMeta {
  const { outputs_b64, output_types, error, retryable } = record;
  if (typeof outputs_b64 !== "string") throw new ResourceMetaError(`field "outputs_b64" must be a string`);
  if (error !== undefined && typeof error !== "string") throw new ResourceMetaError(`field "error" must be a string`);
  if (retryable !== undefined && typeof retryable !== "boolean") throw new ResourceMetaError(`field "retryable" must be a boolean`);
  return { outputs_b64, output_types, ...(error === undefined ? {} : { error }), ...(retryable === undefined ? {} : { retryable }) };
}

/** The codec of {@link StoredOutputsMeta}: Python-compatible JSON, as every connector's metadata. */
export const storedOutputsCodec: ResourceMetaCodec<StoredOutputsMeta> = jsonResourceMeta<StoredOutputsMeta>({ parse: parseStoredOutputs });
