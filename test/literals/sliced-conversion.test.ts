import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { TypedInterfaceSchema, type TypedInterface } from "#idl/flyteidl2/core/interface_pb.js";
import { InputsSchema, type Inputs } from "#idl/flyteidl2/task/common_pb.js";
import { LITERALS_PER_STEP } from "../../src/literals/conversion-steps.js";
import { valuesFromInputs, valuesFromInputsInSlices } from "../../src/literals/convert.js";
import { LiteralError } from "../../src/literals/errors.js";
import { isUnfetchedOffloadedLiteral } from "../../src/literals/offloaded-literal.js";
import { SPEC_VECTORS } from "./fixtures/spec-vectors.js";

/**
 * The sliced conversion CreateTask uses (valuesFromInputsInSlices) runs the same walk as valuesFromInputs,
 * driven differently: every spec vector, alone and repeated in a list and a map long enough to be converted
 * in many slices, gives the same values, and every bad input the same LiteralError (message and path).
 */
function iface(inputs: Record<string, JsonValue>): TypedInterface {
  return fromJson(TypedInterfaceSchema, { inputs: { variables: Object.entries(inputs).map(([key, type]) => ({ key, value: { type } })) }, outputs: {} });
}

function inputs(literals: Record<string, JsonValue>): Inputs {
  return fromJson(InputsSchema, { literals: Object.entries(literals).map(([name, value]) => ({ name, value })) });
}

/** Enough copies that the walk pauses several times. */
const COPIES = LITERALS_PER_STEP + 7;

/** The vector's literal once, in a list of COPIES and in a map of COPIES, each with its declared type. */
function casesOf(v: { lt: JsonValue; lit: JsonValue }): { types: Record<string, JsonValue>; literals: Record<string, JsonValue> } {
  const map: Record<string, JsonValue> = {};
  for (let i = 0; i < COPIES; i++) map[`k${i}`] = v.lit;
  return {
    types: { one: v.lt, list: { collectionType: v.lt }, map: { mapValueType: v.lt } },
    literals: { one: v.lit, list: { collection: { literals: Array.from({ length: COPIES }, () => v.lit) } }, map: { map: { literals: map } } },
  };
}

/** Runs the sliced conversion with slices so short that every pause gives the event loop back, and counts those turns. */
async function sliced(given: Inputs, types: TypedInterface): Promise<{ values: Record<string, unknown>; turns: number }> {
  let turns = 0;
  let converting = true;
  const count = () => {
    if (!converting) return;
    turns++;
    setImmediate(count);
  };
  setImmediate(count);
  try {
    return { values: await valuesFromInputsInSlices(given, types, { sliceMs: 0 }), turns };
  } finally {
    converting = false;
  }
}

function errorOf(run: () => unknown): LiteralError {
  try {
    run();
  } catch (e) {
    if (e instanceof LiteralError) return e;
    throw e;
  }
  throw new Error("expected a LiteralError");
}

async function rejectionOf(run: () => unknown): Promise<LiteralError> {
  try {
    await run();
  } catch (e) {
    if (e instanceof LiteralError) return e;
    throw e;
  }
  throw new Error("expected a LiteralError");
}

describe.each(SPEC_VECTORS.map((v) => [`${v.id} ${v.what}`, v] as const))("%s", (_name, v) => {
  test("sliced and synchronous conversion give the same values, alone and in a list and a map of thousands", async () => {
    const { types, literals } = casesOf(v);
    const given = inputs(literals);
    const expected = valuesFromInputs(given, iface(types));
    const { values, turns } = await sliced(given, iface(types));
    expect(values).toEqual(expected);
    expect(Object.keys(values["map"] as object)).toEqual(Object.keys(expected["map"] as object));
    // The event loop ran between slices: the conversion really was sliced.
    expect(turns).toBeGreaterThanOrEqual(2);
  });
});

const INT = { simple: "INTEGER" };
const P = (p: JsonValue) => ({ scalar: { primitive: p } });
const OPT_INT = {
  unionType: {
    variants: [
      { simple: "INTEGER", structure: { tag: "int" } },
      { simple: "NONE", structure: { tag: "none" } },
    ],
  },
};

/** A list of `length` good integers with one bad literal at `at`. */
function listWithBad(at: number, bad: JsonValue, length = 2 * COPIES): JsonValue {
  return { collection: { literals: Array.from({ length }, (_, i) => (i === at ? bad : P({ integer: String(i) }))) } };
}

test.each([
  ["a mismatch deep in a long list", { xs: { collectionType: INT } }, { xs: listWithBad(2 * COPIES - 3, P({ stringValue: "x" })) }],
  [
    "a mismatch in a map of lists",
    { m: { mapValueType: { collectionType: INT } } },
    {
      m: { map: { literals: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, listWithBad(i === 37 ? 30 : -1, P({ boolean: true }), 200)])) } },
    },
  ],
  [
    "an unknown union tag late in a list",
    { os: { collectionType: OPT_INT } },
    {
      os: listWithBad(2 * COPIES - 1, { scalar: { union: { value: P({ integer: "1" }), type: { simple: "INTEGER", structure: { tag: "Int" } } } } }),
    },
  ],
  ["an undeclared input after a large one", { xs: { collectionType: INT } }, { xs: listWithBad(-1, P({})), nope: P({ integer: "1" }) }],
  ["a missing input after a large one", { xs: { collectionType: INT }, n: INT }, { xs: listWithBad(-1, P({})) }],
])("sliced and synchronous conversion reject %s with the same message and path", async (_name, types, literals) => {
  const given = inputs(literals as Record<string, JsonValue>);
  const sync = errorOf(() => valuesFromInputs(given, iface(types)));
  const inSlices = await rejectionOf(() => valuesFromInputsInSlices(given, iface(types), { sliceMs: 0 }));
  expect(inSlices.message).toBe(sync.message);
  expect(inSlices.path).toEqual(sync.path);
  expect(inSlices.reason).toBe(sync.reason);
});

test("small inputs are converted at once: a value, not a promise", () => {
  const result = valuesFromInputsInSlices(
    inputs({ n: P({ integer: "7" }), xs: { collection: { literals: [P({ integer: "1" })] } } }),
    iface({ n: INT, xs: { collectionType: INT } }),
  );
  expect(result).toEqual({ n: 7n, xs: [1n] });
});

test("a sliced conversion stops between slices when the call is aborted", async () => {
  const controller = new AbortController();
  const given = inputs({ xs: listWithBad(-1, P({})) });
  const converting = valuesFromInputsInSlices(given, iface({ xs: { collectionType: INT } }), { sliceMs: 0, signal: controller.signal });
  expect(converting).toBeInstanceOf(Promise);
  controller.abort(new Error("cancelled by the client"));
  await expect(converting).rejects.toThrow("cancelled by the client");
});

test("an offloaded literal deep in an Optional list is reported as unfetched (the service then fetches it), not as a variant that does not fit", async () => {
  const offloaded = { offloadedMetadata: { uri: "s3://bucket/x", sizeBytes: "10", inferredType: INT } };
  const optionalList: JsonValue = {
    unionType: {
      variants: [
        { collectionType: INT, structure: { tag: "list" } },
        { simple: "NONE", structure: { tag: "none" } },
      ],
    },
  };
  const given = inputs({ xs: listWithBad(2 * COPIES - 2, offloaded) });
  const sync = errorOf(() => valuesFromInputs(given, iface({ xs: optionalList })));
  const inSlices = await rejectionOf(() => valuesFromInputsInSlices(given, iface({ xs: optionalList }), { sliceMs: 0 }));
  expect(isUnfetchedOffloadedLiteral(sync)).toBe(true);
  expect(isUnfetchedOffloadedLiteral(inSlices)).toBe(true);
  expect(inSlices.message).toBe(sync.message);
  expect(inSlices.message.startsWith(`input 'xs'[${2 * COPIES - 2}]: offloaded literal at s3://bucket/x was not fetched`)).toBe(true);
  // Any other bad literal is not mistaken for one.
  expect(
    isUnfetchedOffloadedLiteral(errorOf(() => valuesFromInputs(inputs({ xs: listWithBad(5, P({ stringValue: "x" })) }), iface({ xs: optionalList })))),
  ).toBe(false);
});
