import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { OutputsSchema } from "#idl/flyteidl2/task/common_pb.js";
import { outputsFromValues, outputTypesFromJson, outputTypesToJson, valuesFromOutputs } from "../../literals/convert.js";
import { LiteralError } from "../../literals/errors.js";
import { AsyncConnector, type ConnectorContext, type CreateRequest, type Resource } from "../connector.js";
import { jsonResourceMeta, ResourceMetaError, type MetaRecord } from "../resource-meta.js";

/**
 * The outputs as `flyteidl2.task.Outputs` bytes (base64) with their types, or, when they are large, the URI
 * of the `outputs.pb` written under the output prefix; or why they could not be made.
 */
export interface EchoMeta {
  readonly outputs_b64: string;
  readonly output_types: unknown;
  readonly outputs_uri?: string;
  readonly error?: string;
}

/** Outputs larger than this go to `outputs.pb` instead of the metadata, which the executor stores and resends. */
export const ECHO_INLINE_OUTPUT_BYTES = 16 * 1024;

/**
 * A demo connector with no external dependency: SUCCEEDED at once, with outputs equal to the inputs of the
 * same names, typed by the template's output interface. Values make the whole trip — literal → JS value at
 * create, JS value → literal for the metadata, back to values at get, and to literals for the executor —
 * so it doubles as an end-to-end check of the type engine. Small outputs travel in its metadata; larger
 * ones are written to `<output prefix>/outputs.pb` with `ctx.storage` at create, and the metadata keeps only
 * the file's URI, so a large input round-trips with small metadata and a small GetTask response.
 */
export class EchoConnector extends AsyncConnector<EchoMeta> {
  readonly name = "Echo Connector";
  readonly taskTypeName = "echo";
  override readonly metadata = jsonResourceMeta<EchoMeta>({ parse: parseEchoMeta });

  async create(request: CreateRequest, ctx: ConnectorContext): Promise<EchoMeta> {
    const output_types = outputTypesToJson(request.outputTypes);
    const values: Record<string, unknown> = {};
    for (const name of Object.keys(request.outputTypes)) {
      if (name in request.inputs) values[name] = request.inputs[name];
    }
    try {
      const outputs = outputsFromValues(values, request.outputTypes);
      const bytes = toBinary(OutputsSchema, outputs);
      if (bytes.length > ECHO_INLINE_OUTPUT_BYTES && ctx.storage.outputPrefix !== "") {
        return { outputs_b64: "", output_types, outputs_uri: await ctx.storage.writeOutputs(values, request.outputTypes) };
      }
      return { outputs_b64: Buffer.from(bytes).toString("base64"), output_types };
    } catch (e) {
      // A mismatch is the job's failure, reported by get, not a failed CreateTask.
      if (!(e instanceof LiteralError)) throw e;
      return { outputs_b64: "", output_types, error: e.message };
    }
  }

  async get(meta: EchoMeta): Promise<Resource> {
    if (meta.error !== undefined) return { phase: "FAILED", message: `echo cannot return its inputs as outputs: ${meta.error}` };
    const outputTypes = outputTypesFromJson(meta.output_types);
    // Already in outputs.pb: SUCCEEDED without inline outputs tells the executor to read it.
    if (meta.outputs_uri !== undefined) return { phase: "SUCCEEDED", message: `outputs written to ${meta.outputs_uri}` };
    const outputs = fromBinary(OutputsSchema, Buffer.from(meta.outputs_b64, "base64"));
    return { phase: "SUCCEEDED", outputs: valuesFromOutputs(outputs, outputTypes), outputTypes };
  }

  async delete(): Promise<void> {
    // Echo finishes inside create: there is never anything to cancel.
  }
}

function parseEchoMeta(record: MetaRecord): EchoMeta {
  const { outputs_b64, output_types, outputs_uri, error } = record;
  if (typeof outputs_b64 !== "string") throw new ResourceMetaError(`field "outputs_b64" must be a string`);
  if (outputs_uri !== undefined && typeof outputs_uri !== "string") throw new ResourceMetaError(`field "outputs_uri" must be a string`);
  if (error !== undefined && typeof error !== "string") throw new ResourceMetaError(`field "error" must be a string`);
  return { outputs_b64, output_types, ...(outputs_uri === undefined ? {} : { outputs_uri }), ...(error === undefined ? {} : { error }) };
}
