/**
 * Output values as JSON text for people and scripts: integers beyond 2^53 stay exact (as bare digits),
 * datetimes and durations use their ISO / proto-JSON spellings, bytes are base64, Maps become objects.
 */
export function printableJson(value: unknown, indent = 2): string {
  const big = new Map<string, string>();
  const text = JSON.stringify(
    value,
    function (this: unknown, _key: string, v: unknown) {
      if (typeof v === "bigint") {
        if (Number.isSafeInteger(Number(v))) return Number(v);
        // JSON.stringify cannot write a bigint: leave a marker and put the digits in afterwards.
        const marker = `\u0000big${big.size}\u0000`;
        big.set(marker, v.toString());
        return marker;
      }
      if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
      if (v instanceof Map) return Object.fromEntries(v);
      return v;
    },
    indent,
  );
  let out = text ?? "null";
  for (const [marker, digits] of big) out = out.replace(JSON.stringify(marker), digits);
  return out;
}
