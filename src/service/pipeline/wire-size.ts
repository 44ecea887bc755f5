/**
 * The encoded size of one top-level field of a protobuf message, read off the wire without decoding it: the
 * lengths of every occurrence of length-delimited field `fieldNo` are summed, every other field is skipped.
 * It is how the gRPC fast path knows CreateTask's `inputs` size (the Python service's input-bytes metric)
 * without encoding the inputs again. Malformed bytes give undefined (decoding has rejected them anyway).
 */
export function lengthDelimitedFieldBytes(bytes: Uint8Array, fieldNo: number): number | undefined {
  let pos = 0;
  let total = 0;
  const varint = (): number | undefined => {
    let result = 0;
    let shift = 0;
    while (pos < bytes.length && shift < 64) {
      const b = bytes[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    return undefined;
  };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag === undefined) return undefined;
    const wireType = tag % 8;
    const field = Math.floor(tag / 8);
    if (wireType === 0) {
      if (varint() === undefined) return undefined;
    } else if (wireType === 1) {
      pos += 8;
    } else if (wireType === 5) {
      pos += 4;
    } else if (wireType === 2) {
      const length = varint();
      if (length === undefined || pos + length > bytes.length) return undefined;
      if (field === fieldNo) total += length;
      pos += length;
    } else {
      return undefined;
    }
  }
  return pos === bytes.length ? total : undefined;
}
