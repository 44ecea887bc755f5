import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { LiteralSchema, type Literal, type LiteralOffloadedMetadata } from "#idl/flyteidl2/core/literals_pb.js";
import { LiteralError } from "./errors.js";

/**
 * Reads an offloaded literal: a `core.Literal` the platform stored at a URI because it was too large to send
 * inline (literals.md §5.9). Only `file://` URIs and local paths can be read here; reading synchronously keeps
 * the conversion API synchronous, and such files are local. Any other scheme is an error that names it.
 * @internal
 */
export function literalFromOffloaded(offloaded: LiteralOffloadedMetadata): Literal {
  const { uri } = offloaded;
  if (uri === "") throw new LiteralError("offloaded literal without a uri");
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1];
  let path: string;
  if (scheme === undefined) path = uri;
  else if (scheme.toLowerCase() === "file") {
    try {
      path = fileURLToPath(uri);
    } catch (err) {
      throw new LiteralError(`offloaded literal at ${uri}: ${(err as Error).message}`, { cause: err });
    }
  } else {
    throw new LiteralError(
      `offloaded literal at ${uri}: the ${scheme}:// scheme is not supported; only file:// and local paths can be read`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new LiteralError(`cannot read offloaded literal at ${uri}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return fromBinary(LiteralSchema, bytes);
  } catch (err) {
    throw new LiteralError(`offloaded literal at ${uri} is not a serialized Literal: ${(err as Error).message}`, { cause: err });
  }
}
