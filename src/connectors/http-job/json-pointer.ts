/** What a JSON pointer found: `found` is false when the path does not exist (a `null` value is found). */
export type PointerResult = { readonly found: true; readonly value: unknown } | { readonly found: false };

const POINTER = /^(\/([^~/]|~[01])*)*$/;

/** Whether a string is a JSON pointer (RFC 6901): empty, or `/`-separated tokens with `~0`/`~1` escapes. */
export function isJsonPointer(pointer: string): boolean {
  return POINTER.test(pointer);
}

/**
 * Resolves an RFC 6901 JSON pointer in a parsed JSON document: `""` is the whole document, `/a/0/b` is
 * `doc.a[0].b`, `~1` stands for `/` and `~0` for `~` inside a token.
 *
 * @example
 * jsonPointerGet({ result: { rows: [1, 2] } }, "/result/rows/1"); // { found: true, value: 2 }
 */
export function jsonPointerGet(doc: unknown, pointer: string): PointerResult {
  if (!isJsonPointer(pointer)) throw new TypeError(`not a JSON pointer: ${JSON.stringify(pointer)}`);
  if (pointer === "") return { found: true, value: doc };
  let current: unknown = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) >= current.length) return { found: false };
      current = current[Number(token)];
    } else if (typeof current === "object" && current !== null && Object.hasOwn(current, token)) {
      current = (current as Record<string, unknown>)[token];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}
