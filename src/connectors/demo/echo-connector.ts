import { AsyncConnector, type CreateRequest, type Resource } from "../connector.js";
import { resourceFromStoredOutputs, storedOutputsCodec, storeOutputs, type StoredOutputsMeta } from "../stored-outputs.js";

/** The outputs as `flyteidl2.task.Outputs` bytes (base64) with their types, or why they could not be made. */
export type EchoMeta = StoredOutputsMeta;

/**
 * A demo connector with no external dependency: SUCCEEDED at once, with outputs equal to the inputs of the
 * same names, typed by the template's output interface. Values make the whole trip — literal → JS value at
 * create, JS value → literal for the metadata, back to values at get, and to literals for the executor —
 * so it doubles as an end-to-end check of the type engine. Its metadata carries the outputs themselves:
 * fine for a demo, not for large values.
 */
export class EchoConnector extends AsyncConnector<EchoMeta> {
  readonly name = "Echo Connector";
  readonly taskTypeName = "echo";
  override readonly metadata = storedOutputsCodec;

  async create(request: CreateRequest): Promise<EchoMeta> {
    const values: Record<string, unknown> = {};
    for (const name of Object.keys(request.outputTypes)) {
      if (name in request.inputs) values[name] = request.inputs[name];
    }
    // A mismatch is the job's failure, reported by get, not a failed CreateTask.
    return storeOutputs(values, request.outputTypes);
  }

  async get(meta: EchoMeta): Promise<Resource> {
    return resourceFromStoredOutputs(meta, (error) => `echo cannot return its inputs as outputs: ${error}`);
  }

  async delete(): Promise<void> {
    // Echo finishes inside create: there is never anything to cancel.
  }
}
