import { fc, test } from "@fast-check/jest";
import { decode as referenceDecode, encode as referenceEncode } from "@msgpack/msgpack";
import { LiteralError } from "../../../src/literals/errors.js";
import { msgpackFromValue } from "../../../src/literals/msgpack/msgpack-from-value.js";
import { MsgpackError } from "../../../src/literals/msgpack/msgpack-error.js";
import { valueFromMsgpack } from "../../../src/literals/msgpack/value-from-msgpack.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
const plain = (value: unknown) => msgpackFromValue(value, { flavor: "plain" });

/**
 * Values @msgpack/msgpack and ours must encode identically: no bigint (it writes those as 8 bytes always), no -0,
 * no `__proto__` key (it drops that key when decoding; ours keeps it, tested below).
 */
const portable = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.integer(),
    fc.double({ noDefaultInfinity: false }).filter((d) => !Object.is(d, -0)),
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie("value"), { maxLength: 20 }),
    fc.dictionary(
      fc.string({ unit: "binary" }).filter((k) => k !== "__proto__"),
      tie("value"),
      { maxKeys: 20 },
    ),
  ),
})).value;

describe("valueFromMsgpack / msgpackFromValue", () => {
  test.prop([portable])("write the same bytes as @msgpack/msgpack and read them back", (value) => {
    const ours = plain(value);
    expect(hex(ours)).toBe(hex(referenceEncode(value)));
    expect(valueFromMsgpack(ours)).toEqual(value);
    expect(referenceDecode(ours)).toEqual(value);
  });

  test.prop([fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })])("integers of the whole int64/uint64 range round-trip, bigint beyond 2^53", (n) => {
    const decoded = valueFromMsgpack(plain(n));
    const safe = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
    expect(decoded).toEqual(safe ? Number(n) : n);
    expect(BigInt(referenceDecode(plain(n), { useBigInt64: true }) as number | bigint)).toBe(n);
  });

  test.each([
    [0, "00"],
    [127, "7f"],
    [128, "cc80"],
    [-1, "ff"],
    [-32, "e0"],
    [-33, "d0df"],
    [65535, "cdffff"],
    [2 ** 32, "cf0000000100000000"],
    [-(2 ** 31) - 1, "d3ffffffff7fffffff"],
    [2n ** 64n - 1n, "cfffffffffffffffff"],
    [-(2n ** 63n), "d38000000000000000"],
    [1.5, "cb3ff8000000000000"],
    [-0, "cb8000000000000000"],
  ])("%p encodes as Python's msgpack.packb does: %s", (value, expected) => {
    expect(hex(plain(value))).toBe(expected);
    expect(valueFromMsgpack(fromHex(expected))).toEqual(value);
  });

  test("Python's Dict[int,str] keys come back as a Map and re-encode identically (V24)", () => {
    const value = valueFromMsgpack(fromHex("8201a16102a162"));
    expect(value).toEqual(
      new Map<unknown, unknown>([
        [1, "a"],
        [2, "b"],
      ]),
    );
    expect(hex(plain(value))).toBe("8201a16102a162");
    // A map that switches to non-string keys midway keeps the entries read so far, in order.
    const mixed = valueFromMsgpack(fromHex("82a16101c3a162")) as Map<unknown, unknown>;
    expect([...mixed.entries()]).toEqual([
      ["a", 1],
      [true, "b"],
    ]);
  });

  test("a __proto__ key is an own property, not a prototype change", () => {
    const value = valueFromMsgpack(plain(JSON.parse('{"__proto__": {"polluted": 1}}'))) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  test("float32 is read", () => expect(valueFromMsgpack(fromHex("ca3fc00000"))).toBe(1.5));

  test.each([
    ["truncated data", "cb3ff8", /truncated/],
    ["bytes after the value", "0101", /1 bytes after the msgpack value/],
    ["an extension type (msgpack timestamp)", "d6ff00000000", /extension types are not supported/],
    ["the never-used byte", "c1", /0xc1 is never used/],
    ["invalid UTF-8", "a2c328", /invalid UTF-8/],
    ["an array longer than the data", "dd7fffffff", /truncated/],
    ["an empty buffer", "", /truncated/],
  ])("rejects %s", (_name, data, message) => {
    expect(() => valueFromMsgpack(fromHex(data))).toThrow(MsgpackError);
    expect(() => valueFromMsgpack(fromHex(data))).toThrow(message);
  });

  test("rejects nesting deep enough to overflow the stack", () => {
    const deep = new Uint8Array(100_000).fill(0x91);
    expect(() => valueFromMsgpack(deep)).toThrow(/nesting deeper than/);
  });

  test("long strings and binaries use the 16- and 32-bit headers", () => {
    for (const n of [31, 32, 255, 256, 65535, 65536]) {
      const s = "é".repeat(n);
      expect(valueFromMsgpack(plain(s))).toBe(s);
      expect(hex(plain(s))).toBe(hex(referenceEncode(s)));
      const b = new Uint8Array(n).fill(7);
      expect(valueFromMsgpack(plain(b))).toEqual(b);
    }
  });
});

describe("msgpackFromValue with a schema", () => {
  const schema = {
    type: "object",
    properties: { ratio: { type: "number" }, count: { type: "integer" }, tags: { type: "array", items: { type: "string" } } },
    required: ["ratio", "count"],
  };
  const encode = (value: unknown) => msgpackFromValue(value, { flavor: "mashumaro", schema });

  test("a whole number in a `number` field is a float64, as Python writes `1.0`", () => {
    expect(hex(encode({ ratio: 1, count: 1 }))).toBe("82a5726174696fcb3ff0000000000000a5636f756e7401");
  });

  test.each([
    ["a missing required field", { ratio: 1 }, /the required field "count" is missing/],
    ["a fraction for an integer", { ratio: 1, count: 1.5 }, /\.count: expected an integer, got the number 1.5/],
    ["a string for a number", { ratio: "1", count: 1 }, /\.ratio: expected number, got the string "1"/],
    ["a wrong array element", { ratio: 1, count: 1, tags: ["a", 2] }, /\.tags\[1\]: expected string, got the number 2/],
    ["a non-object", [1], /expected object, got an array/],
    ["a class instance", { ratio: 1, count: 1, tags: [new Set()] }, /cannot encode a Set/],
  ])("rejects %s, naming the field", (_name, value, message) => {
    expect(() => encode(value)).toThrow(LiteralError);
    expect(() => encode(value)).toThrow(message);
  });

  test("datetimes and durations take each library's form", () => {
    const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120));
    expect(valueFromMsgpack(msgpackFromValue({ d: date }, { flavor: "mashumaro" }))).toEqual({ d: "2024-01-02T03:04:05.120000+00:00" });
    expect(valueFromMsgpack(msgpackFromValue({ d: date }, { flavor: "pydantic" }))).toEqual({ d: "2024-01-02T03:04:05.120000Z" });
  });

  test("undefined fields are left out, so Python applies the default", () => {
    expect(valueFromMsgpack(encode({ ratio: 2.5, count: 1, tags: undefined }))).toEqual({ ratio: 2.5, count: 1 });
  });
});
