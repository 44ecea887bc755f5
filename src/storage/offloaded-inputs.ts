import { create } from "@bufbuild/protobuf";
import { InputsSchema, type Inputs } from "#idl/flyteidl2/task/common_pb.js";
import { fetchOffloadedLiterals } from "../literals/offloaded-literal.js";
import type { Storage } from "./storage.js";

/**
 * CreateTask's inputs with every offloaded literal fetched from its store, at most `maxBytes` each, aborted
 * with the call. An input that cannot be read throws `LiteralError` (INVALID_ARGUMENT) naming the input and
 * the URI. Inputs without offloaded literals come back unchanged, without I/O.
 */
export async function fetchOffloadedInputs(
  inputs: Inputs | undefined,
  storage: Storage,
  options: { readonly maxBytes: number; readonly signal: AbortSignal },
): Promise<Inputs | undefined> {
  if (inputs === undefined) return undefined;
  const literals = await fetchOffloadedLiterals(inputs.literals, (uri) => storage.read(uri, options));
  return literals === inputs.literals ? inputs : create(InputsSchema, { literals: [...literals], context: inputs.context });
}
