import { create, fromBinary, ScalarType, type DescField, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { nextTurn, type SlicePause } from "../../../literals/conversion-steps.js";
import { deferMapField, type MapEntries, type PrimitiveOneof } from "../../../literals/deferred-map-field.js";
import { asciiString, decoderFor, isAscii, type PrimitiveLiteralDecoder } from "./primitive-literal-decoder.js";

/** Options of {@link decodeInSlices}. */
export interface DecodeInSlicesOptions {
  /** Longest stretch of decoding between two yields to the event loop; default 5 ms. */
  readonly sliceMs?: number;
  /** Parts smaller than this are decoded in one go; default 64 KiB. */
  readonly smallBytes?: number;
  /** Gives the event loop back between slices; default one turn (see SliceOptions.pause). */
  readonly pause?: SlicePause;
}

/**
 * Decodes a protobuf message as `fromBinary` does, but gives the event loop back every `sliceMs`, so that a
 * maximum-size request (16 MiB of CreateTask with a literal map of a million entries: 5 s of `fromBinary`)
 * does not stall health and every other call while it is decoded.
 *
 * Why slices and not a worker thread: the decoded message has to end up on the main thread, and copying it
 * there (structured clone) costs several times the decode itself for messages of many small objects
 * (measured: 21 s to clone what took 5 s to decode). So the bytes are walked here, on the main thread:
 * every large message-typed part (a singular message, each element of a list of messages, each value of a
 * map of messages) is decoded on its own, recursively, with a yield whenever the slice is used up; the
 * small rest of each message is decoded with `fromBinary` and the large parts are put in place.
 *
 * The result equals `fromBinary(schema, bytes)` for every well-formed message. Less common encodings
 * (a singular message field sent twice, which protobuf merges; maps with non-string keys) are decoded
 * with `fromBinary` as a whole, not in slices, and so are well-known types (a task's `custom` Struct).
 * A large map of messages is not built here: its entries are kept as read, and each small value is decoded
 * when it is read (see deferMapField in src/literals/deferred-map-field.ts).
 */
export async function decodeInSlices<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  options: DecodeInSlicesOptions = {},
): Promise<MessageShape<Desc>> {
  const sliceMs = options.sliceMs ?? 5;
  const smallBytes = options.smallBytes ?? 64 * 1024;
  let sliceStart = performance.now();
  const due = () => performance.now() - sliceStart >= sliceMs;
  const yieldSlice = options.pause ?? nextTurn;
  const pause = async () => {
    await yieldSlice(performance.now() - sliceStart);
    sliceStart = performance.now();
  };

  /**
   * A part below `smallBytes`, in one go: a primitive literal by hand (most parts of a large map), else
   * `fromBinary`, with what is left of the recursion limit below `parentDepth`.
   */
  function decodeSmall(desc: DescMessage, data: Uint8Array, from: number, to: number, parentDepth: number): Record<string, unknown> {
    const primitive = parentDepth + PRIMITIVE_LITERAL_DEPTH <= RECURSION_LIMIT ? decoderFor(desc)?.decode(data, from, to) : undefined;
    return primitive ?? (fromBinary(desc, data.subarray(from, to), { recursionLimit: RECURSION_LIMIT - parentDepth }) as Record<string, unknown>);
  }

  /** Small parts are decoded synchronously (a promise per part would cost more than its decode); large ones recurse. */
  async function decodePart(desc: DescMessage, data: Uint8Array, from: number, to: number, depth: number): Promise<Record<string, unknown>> {
    if (to - from >= smallBytes) return decode(desc, data.subarray(from, to), depth + 1);
    const part = decodeSmall(desc, data, from, to, depth);
    if (due()) await pause();
    return part;
  }

  async function decode(desc: DescMessage, data: Uint8Array, depth: number): Promise<Record<string, unknown>> {
    // fromBinary's own limit; each small part gets what is left of it.
    if (depth > RECURSION_LIMIT) throw new Error(`cannot decode ${desc} from binary: maximum recursion depth of ${RECURSION_LIMIT} reached`);
    if (due()) await pause();
    // Only the fields decoded part by part; every other one goes to `rest`.
    const byNumber = new Map<number, DescField>(desc.fields.filter(isMessageValued).map((f) => [f.number, f]));
    const rest: Uint8Array[] = [];
    const parts: Array<{ field: DescField; value: Record<string, unknown> }> = [];
    const maps = new Map<DescField & { fieldKind: "map" }, DeferredEntries>();
    const seenSingular = new Set<number>();
    const reader = new BinaryReader(data);
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const [number, wireType] = reader.tag();
      const field = byNumber.get(number);
      if (wireType !== WireType.LengthDelimited || field === undefined) {
        reader.skip(wireType, number);
        rest.push(data.subarray(start, reader.pos));
        continue;
      }
      const length = reader.uint32();
      const from = reader.pos;
      const to = from + length;
      if (to > reader.len) throw new RangeError("premature EOF");
      reader.pos = to;
      if (field.fieldKind === "message") {
        if (seenSingular.has(number)) return fromBinary(desc, data, { recursionLimit: RECURSION_LIMIT - depth + 1 }) as Record<string, unknown>;
        seenSingular.add(number);
        parts.push({ field, value: await decodePart(field.message, data, from, to, depth) });
      } else if (field.fieldKind === "list") {
        parts.push({ field, value: await decodePart(field.message!, data, from, to, depth) });
      } else if (field.fieldKind === "map") {
        if (field.mapKey !== ScalarType.STRING) return fromBinary(desc, data, { recursionLimit: RECURSION_LIMIT - depth + 1 }) as Record<string, unknown>;
        const entries = maps.get(field) ?? new DeferredEntries(field.message!, data, depth);
        maps.set(field, entries);
        // A promise only for a large value: one per entry would cost more than reading it.
        const reading = entries.read(from, to);
        if (reading !== undefined) await reading;
        // The clock every 256 entries: reading it costs as much as reading a small entry.
        if ((entries.size & 0xff) === 0 && due()) await pause();
      }
    }
    const message = fromBinary(desc, concat(rest), { recursionLimit: RECURSION_LIMIT - depth + 1 }) as Record<string, unknown>;
    for (const { field, value } of parts) {
      if (field.fieldKind === "list") (message[field.localName] as unknown[]).push(value);
      else if (field.oneof) message[field.oneof.localName] = { case: field.localName, value };
      else message[field.localName] = value;
      if (due()) await pause();
    }
    for (const [field, entries] of maps) deferMapField(message, field.localName, entries);
    return message;
  }

  /**
   * The entries of one map-of-messages field (see deferMapField): where each key and value is in the data,
   * decoded when read; a large value and a key or entry of an unusual encoding are decoded now.
   */
  class DeferredEntries implements MapEntries<Record<string, unknown>> {
    size = 0;
    private readonly keyFrom: number[] = [];
    private readonly keyTo: number[] = [];
    private readonly valueFrom: number[] = [];
    private readonly valueTo: number[] = [];
    /** Keys and values decoded up front, by entry. */
    private readonly keys = new Map<number, string>();
    private readonly values = new Map<number, Record<string, unknown>>();
    private readonly primitives: PrimitiveLiteralDecoder | undefined;

    constructor(
      private readonly valueDesc: DescMessage,
      private readonly data: Uint8Array,
      private readonly depth: number,
    ) {
      this.primitives = decoderFor(valueDesc);
    }

    keyAt(i: number): string {
      return this.keys.get(i) ?? asciiString(this.data, this.keyFrom[i]!, this.keyTo[i]!)!;
    }

    valueAt(i: number): Record<string, unknown> {
      return this.values.get(i) ?? decodeSmall(this.valueDesc, this.data, this.valueFrom[i]!, this.valueTo[i]!, this.depth);
    }

    readPrimitive(i: number, out: PrimitiveOneof): boolean {
      if (this.values.has(i) || this.depth + PRIMITIVE_LITERAL_DEPTH > RECURSION_LIMIT) return false;
      return this.primitives?.read(this.data, this.valueFrom[i]!, this.valueTo[i]!, out) ?? false;
    }

    /**
     * Reads the map entry at `from`..`to` of the data: `{1: key, 2: value}`, each optional, in any order.
     * Returns a promise only when the value is large and is decoded now, in slices.
     */
    read(from: number, to: number): Promise<void> | undefined {
      const { data } = this;
      // The usual entry, checked by hand: a key tag, a one-byte length, an ASCII key, a value tag, a one-byte length.
      const keyEnd = from + 2 + (data[from + 1] ?? 0x80);
      if (data[from] === KEY_TAG && data[from + 1]! < 0x80 && data[keyEnd] === VALUE_TAG && data[keyEnd + 1]! < 0x80 && keyEnd + 2 + data[keyEnd + 1]! === to) {
        if (isAscii(data, from + 2, keyEnd)) return this.add(from + 2, keyEnd, undefined, keyEnd + 2, to);
      }
      const reader = new BinaryReader(data.subarray(from, to));
      let key = "";
      let value: [number, number] | undefined;
      while (reader.pos < reader.len) {
        const [n, wt] = reader.tag();
        if (n === 1 && wt === WireType.LengthDelimited) key = reader.string();
        else if (n === 2 && wt === WireType.LengthDelimited) {
          const length = reader.uint32();
          value = [from + reader.pos, from + reader.pos + length];
          reader.pos += length;
          if (reader.pos > reader.len) throw new RangeError("premature EOF");
        } else reader.skip(wt, n);
      }
      // An entry without a value holds the message's default, as fromBinary decodes it.
      if (value !== undefined) return this.add(0, 0, key, value[0], value[1]);
      this.keys.set(this.size, key);
      this.values.set(this.size, create(this.valueDesc) as Record<string, unknown>);
      this.push(0, 0, 0, 0);
      return undefined;
    }

    private add(keyFrom: number, keyTo: number, key: string | undefined, from: number, to: number): Promise<void> | undefined {
      const i = this.size;
      if (key !== undefined) this.keys.set(i, key);
      this.push(keyFrom, keyTo, from, to);
      if (to - from < smallBytes) return undefined;
      return decodePart(this.valueDesc, this.data, from, to, this.depth).then((value) => {
        this.values.set(i, value);
      });
    }

    private push(keyFrom: number, keyTo: number, valueFrom: number, valueTo: number): void {
      this.keyFrom.push(keyFrom);
      this.keyTo.push(keyTo);
      this.valueFrom.push(valueFrom);
      this.valueTo.push(valueTo);
      this.size++;
    }
  }

  if (bytes.length < smallBytes) return fromBinary(schema, bytes);
  return (await decode(schema, bytes, 1)) as MessageShape<Desc>;
}

/** protobuf-es's default recursion limit for binary decoding, which counts the top message as 1. */
const RECURSION_LIMIT = 100;
/** A map entry's key (field 1) and value (field 2), both length-delimited. */
const KEY_TAG = (1 << 3) | WireType.LengthDelimited;
const VALUE_TAG = (2 << 3) | WireType.LengthDelimited;
/** Messages in a primitive literal: Literal, Scalar, Primitive. */
const PRIMITIVE_LITERAL_DEPTH = 3;

/**
 * Fields decoded part by part: those whose values are messages as they are, not well-known types that
 * protobuf-es holds in another form (a Struct field is a JSON object, a wrapper its scalar), which are
 * decoded with the rest of their message.
 */
function isMessageValued(field: DescField): boolean {
  const message =
    field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message") || (field.fieldKind === "map" && field.mapKind === "message")
      ? field.message
      : undefined;
  return message !== undefined && !message.typeName.startsWith("google.protobuf.");
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
