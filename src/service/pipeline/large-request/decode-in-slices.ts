import { fromBinary, type DescField, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** Options of {@link decodeInSlices}. */
export interface DecodeInSlicesOptions {
  /** Longest stretch of decoding between two yields to the event loop; default 5 ms. */
  readonly sliceMs?: number;
  /** Parts smaller than this are decoded in one go; default 64 KiB. */
  readonly smallBytes?: number;
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
 * with `fromBinary` as a whole, not in slices.
 */
export async function decodeInSlices<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  options: DecodeInSlicesOptions = {},
): Promise<MessageShape<Desc>> {
  const sliceMs = options.sliceMs ?? 5;
  const smallBytes = options.smallBytes ?? 64 * 1024;
  let sliceStart = performance.now();
  const yieldIfDue = async () => {
    if (performance.now() - sliceStart < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  };

  async function decode(desc: DescMessage, data: Uint8Array): Promise<Record<string, unknown>> {
    await yieldIfDue();
    if (data.length < smallBytes) return fromBinary(desc, data) as Record<string, unknown>;
    const byNumber = new Map<number, DescField>(desc.fields.map((f) => [f.number, f]));
    const rest: Uint8Array[] = [];
    const large: Array<{ field: DescField; key?: string; value: Record<string, unknown> }> = [];
    const seenSingular = new Set<number>();
    const reader = new BinaryReader(data);
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const [number, wireType] = reader.tag();
      const field = byNumber.get(number);
      if (wireType !== WireType.LengthDelimited || !field || !isMessageValued(field)) {
        reader.skip(wireType, number);
        rest.push(data.subarray(start, reader.pos));
        continue;
      }
      const body = reader.bytes();
      if (field.fieldKind === "message") {
        if (seenSingular.has(number)) return fromBinary(desc, data) as Record<string, unknown>;
        seenSingular.add(number);
        large.push({ field, value: await decode(field.message, body) });
      } else if (field.fieldKind === "list") {
        large.push({ field, value: await decode(field.message!, body) });
      } else if (field.fieldKind === "map") {
        const entry = await mapEntry(field, body);
        if (entry === undefined) return fromBinary(desc, data) as Record<string, unknown>;
        large.push({ field, key: entry.key, value: entry.value });
      }
    }
    const message = fromBinary(desc, concat(rest)) as Record<string, unknown>;
    for (const { field, key, value } of large) {
      await yieldIfDue();
      if (field.fieldKind === "list") (message[field.localName] as unknown[]).push(value);
      else if (field.fieldKind === "map") (message[field.localName] as Record<string, unknown>)[key!] = value;
      else if (field.oneof) message[field.oneof.localName] = { case: field.localName, value };
      else message[field.localName] = value;
    }
    return message;
  }

  async function mapEntry(field: DescField & { fieldKind: "map" }, body: Uint8Array): Promise<{ key: string; value: Record<string, unknown> } | undefined> {
    if (field.mapKey !== 9 /* ScalarType.STRING */) return undefined;
    const reader = new BinaryReader(body);
    let key = "";
    let valueBytes: Uint8Array = new Uint8Array(0);
    while (reader.pos < reader.len) {
      const [n, wt] = reader.tag();
      if (n === 1 && wt === WireType.LengthDelimited) key = reader.string();
      else if (n === 2 && wt === WireType.LengthDelimited) valueBytes = reader.bytes();
      else reader.skip(wt, n);
    }
    return { key, value: await decode(field.message!, valueBytes) };
  }

  return (await decode(schema, bytes)) as MessageShape<Desc>;
}

function isMessageValued(field: DescField): boolean {
  return (
    field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message") || (field.fieldKind === "map" && field.mapKind === "message")
  );
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
