/**
 * Exact strings flyte-sdk writes into literal types and literals (docs/flyte-literals.md §3). Union variants carry the
 * Python transformer's name in `structure.tag`, and readers dispatch on it, so these must match byte for byte.
 * @internal
 */
export const TAG = {
  int: "int",
  float: "float",
  str: "str",
  bool: "bool",
  datetime: "datetime",
  date: "date",
  timedelta: "timedelta",
  none: "none",
  list: "Typed List",
  dict: "Typed Dict",
  union: "Typed Union",
  enum: "DefaultEnumTransformer",
  dataclass: "Object-Dataclass-Transformer",
  pydantic: "Pydantic Transformer",
  protobuf: "Protobuf-Transformer",
  tuple: "Typed Tuple",
  namedTuple: "NamedTuple",
  typedDict: "TypedDict",
  file: "File",
  dir: "Dir",
  dataframe: "DataFrame Transformer",
  pickle: "FlytePickle",
} as const;

/** `Binary.tag` of every msgpack payload. */
export const MSGPACK_TAG = "msgpack";
/** `BlobType.format` of a pickled value stored as a file. */
export const PICKLE_FORMAT = "PythonPickle";
/** `LiteralType.metadata` key of a protobuf-message STRUCT: the Python class path. */
export const PB_TYPE_KEY = "pb_type";
/** `Literal.metadata` of a dict pickled into a `generic` `{pickle_file: uri}`. */
export const PICKLE_METADATA_FORMAT = "pickle";

/** `LiteralType.annotation.annotations` of every msgpack-serialized STRUCT. */
export function msgpackAnnotations(): { "cache-key-metadata": { "serialization-format": string } } {
  return { "cache-key-metadata": { "serialization-format": MSGPACK_TAG } };
}
