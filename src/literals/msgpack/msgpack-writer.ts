/**
 * A growable byte buffer with the msgpack primitives, always choosing the shortest encoding as Python's
 * `msgpack.packb` does (so a value decoded and re-encoded gives the same bytes).
 * @internal
 */
export class MsgpackWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private static readonly utf8 = new TextEncoder();

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /**
   * One writer reused by every encode: a map of 10k structs would otherwise allocate 10k buffers. Encoding
   * is synchronous and never re-enters itself, so sharing is safe; `bytes()` copies the result out.
   */
  static scratch(): MsgpackWriter {
    MsgpackWriter.shared ??= new MsgpackWriter(4096);
    const writer = MsgpackWriter.shared;
    writer.pos = 0;
    return writer;
  }
  private static shared: MsgpackWriter | undefined;

  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  boolean(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 0xc3 : 0xc2;
  }

  float64(value: number): void {
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.view.setFloat64(this.pos + 1, value);
    this.pos += 9;
  }

  /** A safe integer, in the smallest msgpack int form. */
  int(value: number): void {
    this.ensure(9);
    const b = this.buf;
    if (value >= 0) {
      if (value < 0x80) b[this.pos++] = value;
      else if (value < 0x100) {
        b[this.pos++] = 0xcc;
        b[this.pos++] = value;
      } else if (value < 0x10000) {
        b[this.pos] = 0xcd;
        this.view.setUint16(this.pos + 1, value);
        this.pos += 3;
      } else if (value < 0x1_0000_0000) {
        b[this.pos] = 0xce;
        this.view.setUint32(this.pos + 1, value);
        this.pos += 5;
      } else {
        b[this.pos] = 0xcf;
        this.view.setBigUint64(this.pos + 1, BigInt(value));
        this.pos += 9;
      }
    } else if (value >= -0x20) b[this.pos++] = value + 0x100;
    else if (value >= -0x80) {
      b[this.pos] = 0xd0;
      this.view.setInt8(this.pos + 1, value);
      this.pos += 2;
    } else if (value >= -0x8000) {
      b[this.pos] = 0xd1;
      this.view.setInt16(this.pos + 1, value);
      this.pos += 3;
    } else if (value >= -0x8000_0000) {
      b[this.pos] = 0xd2;
      this.view.setInt32(this.pos + 1, value);
      this.pos += 5;
    } else {
      b[this.pos] = 0xd3;
      this.view.setBigInt64(this.pos + 1, BigInt(value));
      this.pos += 9;
    }
  }

  /** A bigint in [-2^63, 2^64); the caller checks the range. */
  bigint(value: bigint): void {
    if (value >= -(2n ** 53n) && value <= 2n ** 53n) return this.int(Number(value));
    this.ensure(9);
    if (value >= 0n) {
      this.buf[this.pos] = 0xcf;
      this.view.setBigUint64(this.pos + 1, value);
    } else {
      this.buf[this.pos] = 0xd3;
      this.view.setBigInt64(this.pos + 1, value);
    }
    this.pos += 9;
  }

  string(value: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit, plus the largest header.
    this.ensure(value.length * 3 + 5);
    if (value.length <= 24) {
      let ascii = true;
      for (let i = 0; i < value.length; i++) {
        if (value.charCodeAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.buf[this.pos++] = 0xa0 | value.length;
        for (let i = 0; i < value.length; i++) this.buf[this.pos++] = value.charCodeAt(i);
        return;
      }
    }
    // Reserve the largest header, encode, then move the bytes if a shorter header suffices.
    const start = this.pos;
    const { written } = MsgpackWriter.utf8.encodeInto(value, this.buf.subarray(start + 5));
    const header = written < 32 ? 1 : written < 0x100 ? 2 : written < 0x10000 ? 3 : 5;
    if (header !== 5) this.buf.copyWithin(start + header, start + 5, start + 5 + written);
    if (header === 1) this.buf[start] = 0xa0 | written;
    else if (header === 2) {
      this.buf[start] = 0xd9;
      this.buf[start + 1] = written;
    } else if (header === 3) {
      this.buf[start] = 0xda;
      this.view.setUint16(start + 1, written);
    } else {
      this.buf[start] = 0xdb;
      this.view.setUint32(start + 1, written);
    }
    this.pos = start + header + written;
  }

  binary(value: Uint8Array): void {
    const n = value.length;
    this.ensure(n + 5);
    if (n < 0x100) {
      this.buf[this.pos++] = 0xc4;
      this.buf[this.pos++] = n;
    } else if (n < 0x10000) {
      this.buf[this.pos] = 0xc5;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.buf[this.pos] = 0xc6;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
    this.buf.set(value, this.pos);
    this.pos += n;
  }

  arrayHeader(length: number): void {
    this.header(length, 0x90, 0xdc, 0xdd);
  }

  mapHeader(size: number): void {
    this.header(size, 0x80, 0xde, 0xdf);
  }

  private header(n: number, fix: number, b16: number, b32: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = fix | n;
    else if (n < 0x10000) {
      this.buf[this.pos] = b16;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.buf[this.pos] = b32;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
  }
}
