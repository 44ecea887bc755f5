import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { decodeInSlices } from "./large-request/decode-in-slices.js";
import type { LargeWorkShare } from "./large-request/large-work-share.js";

/**
 * A request message that does not parse (garbage, a literal nested deeper than protobuf-es's recursion limit)
 * is the client's fault: INVALID_ARGUMENT, as protobuf-es's JSON parse errors already are, with connect's
 * "parse binary: …" wording (docs/errors.md, "Messages that do not parse"). Both binary decoders use it: the
 * gRPC fast path and the read-ahead in front of connect's handlers.
 */
export function parseError(e: unknown): ConnectError {
  return new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.InvalidArgument);
}

/**
 * Decodes one binary request message: `fromBinary` below `sliceFromBytes`, where it is fastest, and
 * {@link decodeInSlices} from there on, so that a maximum-size message gives the event loop back while it is
 * decoded, its slices taking their turns on `largeWork`. A message that does not parse throws (or rejects
 * with) {@link parseError}.
 */
export function decodeRequestMessage<Desc extends DescMessage>(
  schema: Desc,
  data: Uint8Array,
  sliceFromBytes: number,
  largeWork?: LargeWorkShare,
): MessageShape<Desc> | Promise<MessageShape<Desc>> {
  if (data.byteLength >= sliceFromBytes) {
    return decodeInSlices(schema, data, largeWork && { sliceMs: largeWork.sliceMs, pause: largeWork.pause }).catch((e: unknown) => {
      throw parseError(e);
    });
  }
  try {
    return fromBinary(schema, data);
  } catch (e) {
    throw parseError(e);
  }
}
