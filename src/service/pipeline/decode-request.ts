import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { decodeInSlices } from "./large-request/decode-in-slices.js";
import type { LargeWorkShare } from "./large-request/large-work-share.js";
import type { LargeCallWorker } from "../large-calls/large-call-worker.js";
import { largeCallMethodOf } from "../large-calls/large-call-methods.js";
import { requestHead } from "../large-calls/request-head.js";

/** How a large request is decoded: its connector call on the worker, or in slices on the event loop. */
export interface LargeRequestDecoding {
  /** The event loop's share for sliced decoding and conversion. */
  readonly share?: LargeWorkShare;
  /** Runs the connector calls of large requests; without it they are decoded here, in slices. */
  readonly worker?: LargeCallWorker;
}

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
 * Decodes one binary request message: `fromBinary` below `sliceFromBytes`, where it is fastest. From there on,
 * a connector call's request is only read for its head (the large-request worker decodes the rest and runs
 * the call, docs/operations.md "Large requests"); any other, or every one without a worker, goes through
 * {@link decodeInSlices}, so that a maximum-size message gives the event loop back while it is decoded, its
 * slices taking their turns on the share. A message that does not parse throws (or rejects with)
 * {@link parseError}.
 */
export function decodeRequestMessage<Desc extends DescMessage>(
  schema: Desc,
  data: Uint8Array,
  sliceFromBytes: number,
  large: LargeRequestDecoding = {},
): MessageShape<Desc> | Promise<MessageShape<Desc>> {
  if (data.byteLength >= sliceFromBytes) {
    if (large.worker !== undefined && largeCallMethodOf(schema) !== undefined) {
      const head = requestHead(schema, data);
      if (head !== undefined) return head;
    }
    const share = large.share;
    return decodeInSlices(schema, data, share && { sliceMs: share.sliceMs, pause: share.pause }).catch((e: unknown) => {
      throw parseError(e);
    });
  }
  try {
    return fromBinary(schema, data);
  } catch (e) {
    throw parseError(e);
  }
}
