import { fromBinary, type DescField, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/**
 * A field at most this large is decoded into the head; a larger one is left out (or, a singular message,
 * reduced to its own head). Routing fields (a task type, a connection, an output prefix) are far smaller.
 */
const HEAD_FIELD_BYTES = 64 * 1024;
/**
 * The head holds at most this much of the request's singular fields, and at most `HEAD_LIST_BYTES` of
 * elements of lists and maps, however many small ones there are: thousands of small inputs (a list field)
 * cannot crowd out the template's task type (a singular one).
 */
const HEAD_BYTES = 256 * 1024;
const HEAD_LIST_BYTES = 64 * 1024;
/** Nesting followed into large singular messages (CreateTaskRequest.template.custom is two levels down). */
const HEAD_DEPTH = 4;

/** The request each head was cut from, for the worker that runs the call. */
const requestBytes = new WeakMap<object, Uint8Array>();

/**
 * The head of a large request: the message decoded from its small fields only, bounded in size, so that the
 * event loop learns what the call pipeline needs (the task type its metrics and limits go by, the
 * connection's secrets its logs redact) without decoding the megabytes of inputs. The whole request stays
 * attached to the head ({@link requestBytesOf}); the worker thread that runs the call decodes all of it.
 *
 * Undefined when the bytes are not plain protobuf this can walk (a group, a truncated field): the caller
 * decodes the whole message as it would without a worker, which reports the fault exactly as always.
 */
export function requestHead<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> | undefined {
  const budget: Budget = { singular: HEAD_BYTES, elements: HEAD_LIST_BYTES };
  const kept = headOf(schema, bytes, budget, 0);
  if (kept === undefined) return undefined;
  let head: MessageShape<Desc>;
  try {
    head = fromBinary(schema, kept);
  } catch {
    return undefined;
  }
  requestBytes.set(head, bytes);
  return head;
}

/** The whole request a head stands for; undefined for any other message. */
export function requestBytesOf(message: object): Uint8Array | undefined {
  return requestBytes.get(message);
}

/** What is left of the head's size, for singular fields and for list and map elements. */
interface Budget {
  singular: number;
  elements: number;
}

/**
 * The encoded fields of `bytes` that go into the head, or undefined if the bytes cannot be walked. Fields
 * this schema does not know are left out: the head is read for known fields only.
 */
function headOf(schema: DescMessage, bytes: Uint8Array, budget: Budget, depth: number): Uint8Array | undefined {
  const head = new BinaryWriter();
  const reader = new BinaryReader(bytes);
  try {
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const [number, wireType] = reader.tag();
      if (wireType === WireType.StartGroup || wireType === WireType.EndGroup) return undefined;
      const field = fieldsOf(schema).get(number);
      if (wireType === WireType.LengthDelimited) {
        const length = reader.uint32();
        const contentStart = reader.pos;
        const end = contentStart + length;
        if (end > reader.len) return undefined;
        reader.pos = end;
        if (length > HEAD_FIELD_BYTES) {
          if (field?.fieldKind !== "message" || depth >= HEAD_DEPTH) continue;
          const inner = headOf(field.message, bytes.subarray(contentStart, end), budget, depth + 1);
          if (inner === undefined) return undefined;
          head.tag(number, WireType.LengthDelimited).bytes(inner);
          budget.singular -= inner.byteLength;
          continue;
        }
      } else {
        reader.skip(wireType, number);
      }
      if (field === undefined) continue;
      const size = reader.pos - start;
      const kind = field.fieldKind === "list" || field.fieldKind === "map" ? "elements" : "singular";
      if (size <= budget[kind]) {
        head.raw(bytes.subarray(start, reader.pos));
        budget[kind] -= size;
      }
    }
  } catch {
    return undefined;
  }
  return head.finish();
}

const fieldMaps = new WeakMap<DescMessage, Map<number, DescField>>();

function fieldsOf(schema: DescMessage): Map<number, DescField> {
  let map = fieldMaps.get(schema);
  if (map === undefined) {
    map = new Map(schema.fields.map((f) => [f.number, f]));
    fieldMaps.set(schema, map);
  }
  return map;
}
