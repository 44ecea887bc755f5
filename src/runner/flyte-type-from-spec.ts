import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { LiteralTypeSchema, type LiteralType } from "#idl/flyteidl2/core/types_pb.js";
import { CodedError } from "../errors/coded-error.js";
import type { AnyFlyteType } from "../literals/flyte-type.js";
import { t } from "../literals/t.js";

/** A type written on the command line that cannot be read. */
export class TypeSpecError extends CodedError {
  static override readonly code = "FC_BAD_TYPE_SPEC";
}

const NAMED: Readonly<Record<string, () => AnyFlyteType>> = {
  int: () => t.int(),
  float: () => t.float(),
  str: () => t.string(),
  string: () => t.string(),
  bool: () => t.bool(),
  datetime: () => t.datetime(),
  duration: () => t.duration(),
  timedelta: () => t.duration(),
  none: () => t.none(),
  dict: () => t.dict(),
  dataframe: () => t.dataframe(),
  file: () => t.file(),
  dir: () => t.dir(),
};

/**
 * Reads a type as a Python user writes it: `int`, `float`, `str`, `bool`, `datetime`, `duration`, `dict`,
 * `dataframe`, `file`, `dir`, `list[T]`, `dict[str, T]`, `optional[T]` (or `T?`).
 *
 * @example
 * literalTypeFromText("list[optional[int]]");
 */
export function literalTypeFromText(text: string): LiteralType {
  let i = 0;
  const skip = () => {
    while (text[i] === " ") i++;
  };
  const parse = (): AnyFlyteType => {
    skip();
    const m = /^[A-Za-z_]+/.exec(text.slice(i));
    if (!m) throw new TypeSpecError(`expected a type name at ${i} in ${JSON.stringify(text)}`);
    const name = m[0].toLowerCase();
    i += m[0].length;
    skip();
    let type: AnyFlyteType;
    if (text[i] === "[") {
      i++;
      const args = [parse()];
      skip();
      while (text[i] === ",") {
        i++;
        args.push(parse());
        skip();
      }
      if (text[i] !== "]") throw new TypeSpecError(`expected "]" at ${i} in ${JSON.stringify(text)}`);
      i++;
      if ((name === "list" || name === "optional") && args.length === 1) type = name === "list" ? t.list(args[0]!) : t.optional(args[0]!);
      else if (name === "dict" && args.length === 2 && args[0]!.literalType.type.case === "simple") type = t.map(args[1]!);
      else throw new TypeSpecError(`${name}[…] takes ${name === "dict" ? "str and a value type" : "one type"} in ${JSON.stringify(text)}`);
    } else {
      const make = NAMED[name];
      if (!make) throw new TypeSpecError(`unknown type ${JSON.stringify(name)} (known: ${Object.keys(NAMED).join(", ")}, list[T], dict[str, T], optional[T])`);
      type = make();
    }
    skip();
    if (text[i] === "?") {
      i++;
      type = t.optional(type);
    }
    return type;
  };
  const type = parse();
  skip();
  if (i !== text.length) throw new TypeSpecError(`unexpected ${JSON.stringify(text.slice(i))} in type ${JSON.stringify(text)}`);
  return type.literalType;
}

/** A type given as text (see {@link literalTypeFromText}) or as a proto-JSON `LiteralType` object. */
export function literalTypeFromSpec(spec: JsonValue, where: string): LiteralType {
  if (typeof spec === "string") return literalTypeFromText(spec);
  if (typeof spec === "object" && spec !== null && !Array.isArray(spec)) {
    try {
      return fromJson(LiteralTypeSchema, spec);
    } catch (e) {
      throw new TypeSpecError(`${where}: not a LiteralType: ${(e as Error).message}`);
    }
  }
  throw new TypeSpecError(`${where}: a type is a name such as "int" or "list[str]", or a proto-JSON LiteralType`);
}

/**
 * The type a JSON input value has when none is given: whole numbers are `int`, other numbers `float`,
 * strings `str`, booleans `bool`, lists `list[T]` of their first element's type, objects `dict`.
 */
export function literalTypeOfJson(value: JsonValue, where: string): LiteralType {
  return flyteTypeOfJson(value, where).literalType;
}

function flyteTypeOfJson(value: JsonValue, where: string): AnyFlyteType {
  if (typeof value === "number") return Number.isInteger(value) ? t.int() : t.float();
  if (typeof value === "string") return t.string();
  if (typeof value === "boolean") return t.bool();
  if (Array.isArray(value)) {
    if (value.length === 0) throw new TypeSpecError(`${where}: give the type of an empty list with --input-types`);
    return t.list(flyteTypeOfJson(value[0]!, `${where}[0]`));
  }
  if (value === null) throw new TypeSpecError(`${where}: give the type of a null input with --input-types`);
  return t.dict();
}
