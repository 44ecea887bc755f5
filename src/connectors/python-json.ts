/**
 * JSON in the exact bytes Python's `json.dumps` writes with its defaults — `", "` and `": "` separators,
 * non-ASCII escaped as `\uXXXX`, bare `NaN`/`Infinity` — and a parser that reads those bytes back,
 * keeping integers beyond 2^53 exact as bigint. Resource metadata travels in this form so that a task
 * started by the Python connector service can be polled by ours and the reverse (docs/python-service.md §1.1).
 */

/** A value that {@link stringifyPythonJson} can write and {@link parsePythonJson} returns. */
export type PythonJsonValue = null | boolean | number | bigint | string | readonly PythonJsonValue[] | { readonly [key: string]: PythonJsonValue | undefined };

/** Writes a value as Python's `json.dumps(value)` would. Object keys keep insertion order. */
export function stringifyPythonJson(value: unknown): string {
  return write(value, []);
}

/** `where` is the path to `value`, joined into text only for an error (metadata is written on every CreateTask). */
function write(value: unknown, where: (string | number)[]): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "number":
      return pythonNumber(value);
    case "string":
      return pythonString(value);
    case "object": {
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (let i = 0; i < value.length; i++) {
          where.push(i);
          items.push(write(value[i] ?? null, where));
          where.pop();
        }
        return `[${items.join(", ")}]`;
      }
      if (value instanceof Date || value instanceof Uint8Array || value instanceof Map || value instanceof Set) {
        throw new TypeError(`${pathText(where)}: ${value.constructor.name} is not JSON serializable`);
      }
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue;
        where.push(k);
        parts.push(`${pythonString(k)}: ${write(v, where)}`);
        where.pop();
      }
      return `{${parts.join(", ")}}`;
    }
    default:
      throw new TypeError(`${pathText(where)}: ${typeof value} is not JSON serializable`);
  }
}

function pathText(where: readonly (string | number)[]): string {
  return `$${where.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("")}`;
}

function pythonNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  // A JS number past 2^53 is a float whose integer digits are not all its own: Python reads it as a float too,
  // and it reads back as the same number (an integer literal that large reads back as a bigint).
  if (Number.isSafeInteger(n)) return String(n);
  return pythonFloatRepr(n);
}

/** Python's float repr: shortest round-trip digits like JS, but exponents as `e+XX`/`e-XX` with two digits. */
function pythonFloatRepr(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-])(\d+)$/.exec(s);
  if (m) {
    const [, sign, int, frac, esign, exp] = m;
    return `${sign}${int}${frac ? `.${frac}` : ""}e${esign}${exp!.padStart(2, "0")}`;
  }
  // Python switches to exponent form at 1e16 and below 1e-4; JS at 1e21 and below 1e-6.
  const abs = Math.abs(n);
  if (abs >= 1e16 || (abs !== 0 && abs < 1e-4)) {
    const [mant, e] = n.toExponential().split("e") as [string, string];
    const sign = e.startsWith("-") ? "-" : "+";
    return `${mant}e${sign}${e.replace(/^[+-]/, "").padStart(2, "0")}`;
  }
  return Number.isInteger(n) ? `${s}.0` : s;
}

/** Printable ASCII but `"` and `\`: written as it is. */
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function pythonString(s: string): string {
  if (PLAIN_STRING.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += s[i];
  }
  return `${out}"`;
}

/** A syntax error in JSON text, with the byte offset where parsing stopped. */
export class PythonJsonSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = "PythonJsonSyntaxError";
  }
}

/**
 * Parses JSON, also accepting Python's bare `NaN`, `Infinity` and `-Infinity`. Integers outside the safe
 * range come back as bigint so that no digit is lost.
 */
export function parsePythonJson(text: string): PythonJsonValue {
  // Resource metadata is parsed on every GetTask and is mostly short and plain: where the text holds nothing
  // that JSON.parse reads otherwise (NaN, Infinity, an integer of 16 digits or more) and is too short to nest
  // past the depth limit, V8's parser gives the same value, faster. Anything it refuses goes to the parser
  // below, for its error.
  if (text.length <= PLAIN_MAX_CHARS && !NOT_PLAIN_JSON.test(text)) {
    try {
      return JSON.parse(text) as PythonJsonValue;
    } catch {
      // reported by parsePythonJsonText
    }
  }
  return parsePythonJsonText(text);
}

/** Texts this short cannot nest past {@link MAX_DEPTH}: each level takes at least two characters. */
const PLAIN_MAX_CHARS = 1000;
const NOT_PLAIN_JSON = /NaN|Infinity|\d{16}/;
const MAX_DEPTH = 512;

/** {@link parsePythonJson} without the JSON.parse shortcut; exported for the test that compares the two. */
export function parsePythonJsonText(text: string): PythonJsonValue {
  let i = 0;
  const fail = (msg: string): never => {
    throw new PythonJsonSyntaxError(msg, i);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const literal = (word: string, value: PythonJsonValue): PythonJsonValue => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail(`unexpected token`);
  };
  const str = (): string => {
    i++; // opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail("control character in string");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case "\\":
          out += "\\";
          break;
        case "/":
          out += "/";
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad unicode escape");
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          fail("bad escape");
      }
      start = i;
    }
  };
  const num = (): PythonJsonValue => {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail("bad number");
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const value = (depth: number): PythonJsonValue => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: Record<string, PythonJsonValue> = {};
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a string key");
        const key = str();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        Object.defineProperty(obj, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr: PythonJsonValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (c === "t") return literal("true", true);
    if (c === "f") return literal("false", false);
    if (c === "n") return literal("null", null);
    if (c === "N") return literal("NaN", NaN);
    if (c === "I") return literal("Infinity", Infinity);
    if (c === "-" && text.startsWith("-Infinity", i)) return literal("-Infinity", -Infinity);
    return num();
  };
  const result = value(0);
  ws();
  if (i !== text.length) fail("unexpected trailing characters");
  return result;
}
