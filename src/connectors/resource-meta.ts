import { CodedError } from "../errors/coded-error.js";
import { parsePythonJson, stringifyPythonJson, type PythonJsonValue } from "./python-json.js";

/**
 * Turns a connector's resource metadata into the opaque bytes the executor stores and sends back on every
 * GetTask and DeleteTask, and back again. The executor keeps these bytes in the TaskAction's status, so keep
 * the metadata small (under 1–2 KiB; docs/flyte-executor.md §5).
 */
export interface ResourceMetaCodec<Meta> {
  encode(meta: Meta): Uint8Array;
  /** Throws {@link ResourceMetaError} for bytes that do not hold this connector's metadata. */
  decode(data: Uint8Array): Meta;
}

/** Resource metadata that cannot be decoded. The service answers INVALID_ARGUMENT. */
export class ResourceMetaError extends CodedError {
  static override readonly code = "FC_BAD_RESOURCE_META";
}

/** The parsed JSON object of a metadata record, before it is checked. */
export type MetaRecord = { readonly [key: string]: PythonJsonValue | undefined };

/** Options of {@link jsonResourceMeta}. */
export interface JsonResourceMetaOptions<Meta> {
  /**
   * Checks the parsed record and builds the metadata. Unknown keys must be ignored, so that metadata written
   * by a newer version (or by Python) still decodes. Throw to reject; the message reaches the caller.
   * Without it, the record is taken as it is.
   */
  readonly parse?: (record: MetaRecord) => Meta;
}

/**
 * The default codec: UTF-8 JSON byte-compatible with Python's `json.dumps(asdict(meta))`, so a task started
 * by the Python connector service can be polled and deleted by this one and the reverse. Fields are written
 * in the object's key order; declare them in the order of the Python dataclass for identical bytes.
 *
 * @example
 * interface JobMeta { job_id: string; created_at: number }
 * const codec = jsonResourceMeta<JobMeta>({
 *   parse: (r) => ({ job_id: requireString(r, "job_id"), created_at: requireNumber(r, "created_at") }),
 * });
 */
export function jsonResourceMeta<Meta extends object>(options: JsonResourceMetaOptions<Meta> = {}): ResourceMetaCodec<Meta> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  return {
    encode(meta: Meta): Uint8Array {
      return encoder.encode(stringifyPythonJson(meta));
    },
    decode(data: Uint8Array): Meta {
      let record: PythonJsonValue;
      try {
        record = parsePythonJson(decoder.decode(data));
      } catch (e) {
        throw new ResourceMetaError(`resource metadata is not UTF-8 JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      if (typeof record !== "object" || record === null || Array.isArray(record)) {
        throw new ResourceMetaError("resource metadata is not a JSON object");
      }
      if (!options.parse) return record as unknown as Meta;
      try {
        return options.parse(record as MetaRecord);
      } catch (e) {
        if (e instanceof ResourceMetaError) throw e;
        throw new ResourceMetaError(`resource metadata is invalid: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },
  };
}

/** Reads a required string field of a metadata record. */
export function requireString(record: MetaRecord, key: string): string {
  const v = record[key];
  if (typeof v !== "string") throw new ResourceMetaError(`field "${key}" must be a string`);
  return v;
}

/** Reads a required number field of a metadata record (an integer beyond 2^53 is refused, not rounded). */
export function requireNumber(record: MetaRecord, key: string): number {
  const v = record[key];
  if (typeof v !== "number") throw new ResourceMetaError(`field "${key}" must be a number`);
  return v;
}

/** Reads an optional field, with a default when it is absent or null. */
export function optionalField<T extends PythonJsonValue>(record: MetaRecord, key: string, fallback: T): PythonJsonValue {
  const v = record[key];
  return v === undefined || v === null ? fallback : v;
}
