import { mapFieldEntries } from "./deferred-map-field.js";
import { create, fromBinary } from "@bufbuild/protobuf";
import { LiteralSchema, type Literal } from "#idl/flyteidl2/core/literals_pb.js";
import type { NamedLiteral } from "#idl/flyteidl2/task/common_pb.js";
import { finishConversion, finishConversionInSlices, newStepCounter, pauseDue, type Conversion, type StepCounter } from "./conversion-steps.js";
import { LiteralError, literalErrorWithin } from "./errors.js";

/**
 * Offloaded literals: a `core.Literal` the platform stored at a URI because it was too large to send inline
 * (docs/flyte-literals.md §5.9). flyte-sdk reads them at any nesting level. Here they are fetched before conversion,
 * so that the type engine does no I/O and knows nothing of object stores: the caller passes a
 * `fetch` that reads a URI (the service's storage, with its size limit and the call's signal).
 */

/** Reads the bytes at a URI; throws (any error) when it cannot. */
export type FetchBytes = (uri: string) => Promise<Uint8Array>;

/** Offloaded literals pointing at offloaded literals are followed this far, then refused. */
const MAX_OFFLOAD_HOPS = 8;

/**
 * Returns the literals with every offloaded literal, at any depth, replaced by the literal stored at its URI.
 * Literals without one are returned as they are (the same objects); the input is never modified. A URI that
 * cannot be read or does not hold a serialized Literal throws {@link LiteralError} naming the input and URI.
 *
 * @example
 * const literals = await fetchOffloadedLiterals(request.inputs.literals, (uri) => storage.read(uri, { maxBytes }));
 */
export async function fetchOffloadedLiterals(literals: readonly NamedLiteral[], fetch: FetchBytes, kind = "input"): Promise<readonly NamedLiteral[]> {
  // Looking for offloaded literals walks every literal: in slices, as conversion does, for a maximum-size request.
  const found = finishConversionInSlices(anyOffloaded(literals));
  if (!(found instanceof Promise ? await found : found)) return literals;
  return Promise.all(
    literals.map(async (named) => {
      if (named.value === undefined || !containsOffloaded(named.value)) return named;
      try {
        return { ...named, value: await resolve(named.value, fetch) };
      } catch (err) {
        throw literalErrorWithin(err, `${kind} '${named.name}'`);
      }
    }),
  );
}

/** The errors {@link unfetchedOffloadedLiteral} made, however far they travelled (`within` keeps the object). */
const unfetched = new WeakSet<LiteralError>();

/** The error for an offloaded literal that reached conversion unfetched. */
export function unfetchedOffloadedLiteral(literal: Literal): LiteralError {
  const uri = literal.value.case === "offloadedMetadata" ? literal.value.value.uri : "";
  const err = new LiteralError(`offloaded literal at ${uri} was not fetched before conversion (see fetchOffloadedLiterals)`);
  unfetched.add(err);
  return err;
}

/**
 * Whether conversion failed only because it met an offloaded literal: the service converts first and fetches
 * only then (and converts again), so that inputs without offloaded literals are walked once. A plain
 * {@link LiteralError} to everyone else (FC_BAD_LITERAL), as it always was.
 */
export function isUnfetchedOffloadedLiteral(err: unknown): boolean {
  return err instanceof LiteralError && unfetched.has(err);
}

function* anyOffloaded(literals: readonly NamedLiteral[]): Conversion<boolean> {
  const steps = newStepCounter();
  for (const l of literals) if (l.value !== undefined && (yield* offloadedWithin(l.value, steps))) return true;
  return false;
}

function containsOffloaded(literal: Literal): boolean {
  return finishConversion(offloadedWithin(literal, newStepCounter()));
}

function* offloadedWithin(literal: Literal, steps: StepCounter): Conversion<boolean> {
  const v = literal.value;
  switch (v.case) {
    case "offloadedMetadata":
      return true;
    case "collection":
      for (const l of v.value.literals) {
        if (yield* offloadedWithin(l, steps)) return true;
        if (pauseDue(steps)) yield;
      }
      return false;
    case "map": {
      const entries = mapFieldEntries<Literal>(v.value, "literals");
      for (let i = 0; i < entries.size; i++) {
        if (yield* offloadedWithin(entries.valueAt(i), steps)) return true;
        if (pauseDue(steps)) yield;
      }
      return false;
    }
    case "scalar":
      return v.value.value.case === "union" && v.value.value.value.value !== undefined && (yield* offloadedWithin(v.value.value.value.value, steps));
    default:
      return false;
  }
}

async function resolve(literal: Literal, fetch: FetchBytes): Promise<Literal> {
  let current = literal;
  for (let hops = 0; current.value.case === "offloadedMetadata"; hops++) {
    if (hops === MAX_OFFLOAD_HOPS) throw new LiteralError(`offloaded literals nested deeper than ${MAX_OFFLOAD_HOPS}`);
    current = await fetchOne(current.value.value.uri, fetch);
  }
  const v = current.value;
  switch (v.case) {
    case "collection": {
      const literals = await Promise.all(
        v.value.literals.map((l, i) => (containsOffloaded(l) ? resolve(l, fetch).catch((e) => Promise.reject(literalErrorWithin(e, `[${i}]`))) : l)),
      );
      return create(LiteralSchema, { ...current, value: { case: "collection", value: { ...v.value, literals } } });
    }
    case "map": {
      const entries = await Promise.all(
        Object.entries(v.value.literals).map(async ([k, l]) => {
          try {
            return [k, containsOffloaded(l) ? await resolve(l, fetch) : l] as const;
          } catch (e) {
            throw literalErrorWithin(e, `[${JSON.stringify(k)}]`);
          }
        }),
      );
      return create(LiteralSchema, { ...current, value: { case: "map", value: { ...v.value, literals: Object.fromEntries(entries) } } });
    }
    case "scalar": {
      const s = v.value.value;
      if (s.case !== "union" || s.value.value === undefined || !containsOffloaded(s.value.value)) return current;
      const inner = await resolve(s.value.value, fetch);
      return create(LiteralSchema, {
        ...current,
        value: { case: "scalar", value: { ...v.value, value: { case: "union", value: { ...s.value, value: inner } } } },
      });
    }
    default:
      return current;
  }
}

async function fetchOne(uri: string, fetch: FetchBytes): Promise<Literal> {
  if (uri === "") throw new LiteralError("offloaded literal without a uri");
  let bytes: Uint8Array;
  try {
    bytes = await fetch(uri);
  } catch (err) {
    // Not `instanceof Error`: errors from another realm (a VM context, a test runner) are errors too.
    const reason = typeof (err as Error | undefined)?.message === "string" ? (err as Error).message : String(err);
    throw new LiteralError(`cannot read offloaded literal at ${uri}: ${reason}`, { cause: err });
  }
  try {
    return fromBinary(LiteralSchema, bytes);
  } catch (err) {
    throw new LiteralError(`offloaded literal at ${uri} is not a serialized Literal: ${(err as Error).message}`, { cause: err });
  }
}
