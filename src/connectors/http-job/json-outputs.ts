import type { OutputTypes } from "../connector.js";
import { admitsNone } from "../../literals/union-type.js";
import { jsonPointerGet } from "./json-pointer.js";
import { jsonValueForType } from "./json-value-for-type.js";

/**
 * The output values in a JSON answer, each at its pointer and converted to its declared type. An output that
 * is absent reads as None where its type admits it; otherwise the first one missing is named.
 */
export function outputsFromAnswer(
  doc: unknown,
  pointers: Readonly<Record<string, string>>,
  types: OutputTypes,
): { readonly outputs: Record<string, unknown> } | { readonly missing: { readonly name: string; readonly pointer: string } } {
  const outputs: Record<string, unknown> = {};
  for (const [name, pointer] of Object.entries(pointers)) {
    const type = types[name];
    if (!type) continue;
    const found = jsonPointerGet(doc, pointer);
    if (!found.found) {
      if (admitsNone(type)) {
        outputs[name] = null;
        continue;
      }
      return { missing: { name, pointer } };
    }
    outputs[name] = jsonValueForType(found.value, type);
  }
  return { outputs };
}
