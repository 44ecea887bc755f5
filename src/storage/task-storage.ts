import type { LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { outputsFromValues, valuesFromOutputs } from "../literals/convert.js";
import { uriUnder } from "./flyte-uri.js";
import { OUTPUTS_FILE, outputsFileBytes, outputsFromFileBytes } from "./outputs-file.js";
import type { Storage } from "./storage.js";

/** Output names and their declared types (the same shape as a connector's `OutputTypes`). */
type Types = Readonly<Record<string, LiteralType>>;

/**
 * The object store as a connector sees it in one call (`ctx.storage`): read any Flyte URI, write files under
 * the task's output prefix, and write or read the task's `outputs.pb`. Every call is aborted with the call
 * (deadline, cancel, drain), and fails with a `StorageError` naming the URI.
 *
 * @example
 * const uri = await ctx.storage.writeOutputs({ o0: bigText }, request.outputTypes); // <prefix>/outputs.pb
 * return { outputs_uri: uri };                                                      // small metadata
 */
export interface TaskStorage {
  /** The task's output prefix; empty when the caller sent none (DeleteTask, logs, metrics). */
  readonly outputPrefix: string;
  /** The URI of `name` (a relative path such as `results/part-0.csv`) under the output prefix. */
  uri(name: string): string;
  /** Reads the object at a URI of any supported scheme; larger than `maxBytes` (default 256 MiB) is an error. */
  read(uri: string, options?: { readonly maxBytes?: number }): Promise<Uint8Array>;
  /** Writes `name` under the output prefix and returns its URI once it is durable. */
  write(name: string, data: Uint8Array | string): Promise<string>;
  /**
   * Writes `<output prefix>/outputs.pb` from output values typed by `types`, and returns its URI once it is
   * durable. Return SUCCEEDED without `outputs` afterwards: the executor reads the file. Throws `LiteralError`
   * for a value that does not fit its type.
   */
  writeOutputs(values: Readonly<Record<string, unknown>>, types: Types): Promise<string>;
  /** Reads an `outputs.pb` (by default the task's) back into values by their types. */
  readOutputs(types: Types, uri?: string): Promise<Record<string, unknown>>;
}

const DEFAULT_MAX_READ_BYTES = 256 * 1024 * 1024;

/** The {@link TaskStorage} of one call. */
export function taskStorage(storage: Storage, outputPrefix: string, signal: AbortSignal): TaskStorage {
  const uri = (name: string) => uriUnder(outputPrefix, name);
  const read = (target: string, maxBytes = DEFAULT_MAX_READ_BYTES) => storage.read(target, { maxBytes, signal });
  const write = async (name: string, data: Uint8Array | string) => {
    const target = uri(name);
    await storage.write(target, typeof data === "string" ? Buffer.from(data) : data, { signal });
    return target;
  };
  return {
    outputPrefix,
    uri,
    read: (target, options) => read(target, options?.maxBytes),
    write,
    writeOutputs: (values, types) => write(OUTPUTS_FILE, outputsFileBytes(outputsFromValues(values, types))),
    async readOutputs(types, target = uri(OUTPUTS_FILE)) {
      return valuesFromOutputs(outputsFromFileBytes(await read(target)), types);
    },
  };
}
