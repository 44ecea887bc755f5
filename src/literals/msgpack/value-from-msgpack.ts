import { MsgpackError } from "./msgpack-error.js";

/**
 * Decodes one msgpack value, as Python's `msgpack.loads(data, strict_map_key=False)` reads what flyte-sdk
 * writes (docs/flyte-literals.md §2.10–2.12):
 * - integers → number, or bigint beyond ±2^53 so that no digit is lost;
 * - float32/float64 → number; str → string (invalid UTF-8 is an error, as in Python); bin → Uint8Array; nil → null;
 * - a map whose keys are all strings → a plain object in the encoded key order; a map with any other key
 *   (Python `Dict[int, str]`) → a `Map`, so that the keys keep their type and the value re-encodes identically.
 * Extension types (msgpack timestamps) are refused: Python's decoders do not accept them either.
 * Throws {@link MsgpackError} for truncated, trailing or malformed bytes.
 * @internal
 */
export function valueFromMsgpack(bytes: Uint8Array): unknown {
  const reader = new Reader(bytes);
  const value = reader.read(0);
  if (reader.pos !== bytes.length) throw new MsgpackError(`${bytes.length - reader.pos} bytes after the msgpack value`);
  return value;
}

/** Nesting deeper than this is refused rather than overflowing the stack. */
const MAX_DEPTH = 512;

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  read(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new MsgpackError(`msgpack nesting deeper than ${MAX_DEPTH}`);
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.str(b & 0x1f);
    if (b >= 0x90 && b <= 0x9f) return this.array(b & 0x0f, depth);
    if (b >= 0x80 && b <= 0x8f) return this.map(b & 0x0f, depth);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(this.u8());
      case 0xc5:
        return this.bin(this.u16());
      case 0xc6:
        return this.bin(this.u32());
      case 0xca:
        return this.f32();
      case 0xcb:
        return this.f64();
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf:
        return this.u64();
      case 0xd0:
        return (this.u8() << 24) >> 24;
      case 0xd1:
        return (this.u16() << 16) >> 16;
      case 0xd2:
        return this.i32();
      case 0xd3:
        return this.i64();
      case 0xd9:
        return this.str(this.u8());
      case 0xda:
        return this.str(this.u16());
      case 0xdb:
        return this.str(this.u32());
      case 0xdc:
        return this.array(this.u16(), depth);
      case 0xdd:
        return this.array(this.u32(), depth);
      case 0xde:
        return this.map(this.u16(), depth);
      case 0xdf:
        return this.map(this.u32(), depth);
      case 0xc1:
        throw new MsgpackError("msgpack byte 0xc1 is never used");
      default:
        // 0xc7-0xc9 and 0xd4-0xd8: extension types.
        throw new MsgpackError(`msgpack extension types are not supported (byte 0x${b.toString(16)} at ${this.pos - 1})`);
    }
  }

  private need(n: number): number {
    const at = this.pos;
    if (at + n > this.bytes.length) throw new MsgpackError(`msgpack data is truncated (needs ${n} bytes at ${at})`);
    this.pos = at + n;
    return at;
  }

  private u8(): number {
    return this.bytes[this.need(1)]!;
  }
  private u16(): number {
    return this.view.getUint16(this.need(2));
  }
  private u32(): number {
    return this.view.getUint32(this.need(4));
  }
  private i32(): number {
    return this.view.getInt32(this.need(4));
  }
  private f32(): number {
    return this.view.getFloat32(this.need(4));
  }
  private f64(): number {
    return this.view.getFloat64(this.need(8));
  }
  private u64(): number | bigint {
    const at = this.need(8);
    const hi = this.view.getUint32(at);
    const lo = this.view.getUint32(at + 4);
    if (hi < 0x200000) return hi * 0x1_0000_0000 + lo; // < 2^53
    return this.view.getBigUint64(at);
  }
  private i64(): number | bigint {
    const at = this.need(8);
    const hi = this.view.getInt32(at);
    const lo = this.view.getUint32(at + 4);
    if (hi >= -0x200000 && hi < 0x200000) return hi * 0x1_0000_0000 + lo; // within ±2^53
    return this.view.getBigInt64(at);
  }

  private str(length: number): string {
    const at = this.need(length);
    const bytes = this.bytes;
    // Short ASCII strings (field names, most values) are cheaper to build by hand than through TextDecoder.
    if (length <= 24) {
      let out = "";
      for (let i = at; i < at + length; i++) {
        const c = bytes[i]!;
        if (c >= 0x80) return this.utf8(at, length);
        out += String.fromCharCode(c);
      }
      return out;
    }
    return this.utf8(at, length);
  }

  private utf8(at: number, length: number): string {
    try {
      return utf8.decode(this.bytes.subarray(at, at + length));
    } catch {
      throw new MsgpackError(`invalid UTF-8 in a msgpack string at ${at}`);
    }
  }

  private bin(length: number): Uint8Array {
    const at = this.need(length);
    return this.bytes.slice(at, at + length);
  }

  private array(length: number, depth: number): unknown[] {
    // Each element takes at least one byte: reject absurd lengths before allocating.
    if (length > this.bytes.length - this.pos) throw new MsgpackError(`msgpack array of ${length} elements is truncated`);
    const out = new Array<unknown>(length);
    for (let i = 0; i < length; i++) out[i] = this.read(depth + 1);
    return out;
  }

  private map(size: number, depth: number): Record<string, unknown> | Map<unknown, unknown> {
    if (size * 2 > this.bytes.length - this.pos) throw new MsgpackError(`msgpack map of ${size} entries is truncated`);
    const record: Record<string, unknown> = {};
    for (let i = 0; i < size; i++) {
      const key = this.read(depth + 1);
      if (typeof key !== "string") return this.mapWithOtherKeys(record, key, size - i, depth);
      const value = this.read(depth + 1);
      if (key === "__proto__") Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
      else record[key] = value;
    }
    return record;
  }

  /** Continues a map as a `Map` once a non-string key shows up, keeping the entries read so far. */
  private mapWithOtherKeys(record: Record<string, unknown>, firstKey: unknown, left: number, depth: number): Map<unknown, unknown> {
    const map = new Map<unknown, unknown>(Object.entries(record));
    map.set(firstKey, this.read(depth + 1));
    for (let i = 1; i < left; i++) {
      const key = this.read(depth + 1);
      map.set(key, this.read(depth + 1));
    }
    return map;
  }
}
