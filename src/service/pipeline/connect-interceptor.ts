import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { Code, ConnectError, createContextKey, createContextValues, type ContextValues, type Interceptor, type StreamRequest } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { toBinary, type DescMethod, type Message } from "@bufbuild/protobuf";
import type { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { connectorOperationOf, decodedCall, protocolFrom } from "./call-info.js";
import type { Call, CallPipeline } from "./call-pipeline.js";
import { lengthDelimitedFieldBytes } from "./wire-size.js";

/** The pipeline's {@link Call} of a connect call, for the service implementation behind it. */
export const kPipelineCall = createContextKey<Call | undefined>(undefined, { description: "flyte-connect pipeline call" });

/** The raw node request behind a call, for the HTTP version, the client leaving, and requests no handler saw. */
export const kRawRequest = createContextKey<IncomingMessage | Http2ServerRequest | undefined>(undefined, { description: "raw request" });

/**
 * A binary request message read and decoded ahead of connect (src/service/transport/read-ahead.ts), with its
 * bytes as received after decompression, or the INVALID_ARGUMENT error it failed to parse with.
 */
export type DecodedRequest = { readonly message: unknown; readonly bytes: Uint8Array } | { readonly error: ConnectError };

/** The request message decoded ahead of connect, which then decodes an empty stand-in in its place. */
export const kDecodedRequest = createContextKey<DecodedRequest | undefined>(undefined, { description: "flyte-connect decoded request" });

/** The connect routes' `contextValues`: the raw request is remembered. */
export function contextValuesFor(raw: IncomingMessage | Http2ServerRequest): ContextValues {
  return createContextValues().set(kRawRequest, raw);
}

const clientLeft = () => new ConnectError("the client went away", Code.Canceled);

/**
 * connect's whole share of the call pipeline, as its only interceptor: the request is read once into the
 * call's information, and the pipeline does the rest. A binary request was decoded ahead of connect
 * ({@link kDecodedRequest}): its message replaces connect's empty stand-in here, or its parse error is thrown
 * where connect throws JSON's. A server-streaming connector request (GetTaskLogs) is read here, as the
 * handler would read it, to learn its task type.
 *
 * The call settles when the client leaves even if the response never finishes: connect-node's write waits
 * for 'drain' or 'error', and a closed HTTP/2 stream emits neither, so a stream whose client stopped reading
 * and left would otherwise hold its in-flight slot for good. The stream's (or socket's) 'close' settles it.
 */
export function connectPipelineInterceptor(pipeline: CallPipeline, seen: WeakSet<object>): Interceptor {
  return (next) => async (req) => {
    const raw = req.contextValues.get(kRawRequest);
    const ahead = req.contextValues.get(kDecodedRequest);
    // A message that did not parse never becomes a call: it is logged as a request no call saw.
    if (raw && !(ahead !== undefined && "error" in ahead)) seen.add(raw);
    let forward = req;
    let message: unknown = req.stream ? undefined : req.message;
    if (ahead !== undefined) {
      // connect's stand-in message is read first, so that its own checks of the request come first.
      if (req.stream) await single(req);
      // Where connect raises a JSON parse error: before the pipeline.
      if ("error" in ahead) throw ahead.error;
      message = ahead.message;
      forward = req.stream ? ({ ...req, message: createAsyncIterable([message]) } as StreamRequest) : { ...req, message: message as typeof req.message };
    } else if (req.stream && req.method.methodKind === "server_streaming" && connectorOperationOf(req.method) !== undefined) {
      message = await single(req);
      forward = { ...req, message: createAsyncIterable([message]) } as StreamRequest;
    }
    const protocol = protocolFrom(req.header.get("content-type"));
    const decoded = decodedCall(
      req.method,
      message,
      protocol,
      raw?.httpVersion ?? "",
      connectorOperationOf(req.method) === "create" && !req.stream ? inputBytesOf(req.method, message, ahead) : undefined,
    );
    const call = pipeline.start(decoded, { parent: req.signal });
    req.contextValues.set(kPipelineCall, call);
    const stopWatching = whenClientLeaves(raw, () => {
      if (call.settled) return;
      const reason = clientLeft();
      call.abort(reason);
      call.end(reason);
    });
    try {
      call.admit(req.header.get("authorization"));
      const res = await call.run(() => next(forward), req.stream);
      if (!res.stream) {
        const phase = call.info.operation === "get" ? (res.message as { resource?: { phase?: TaskExecution_Phase } }).resource?.phase : undefined;
        call.end(undefined, phase);
        stopWatching();
        return res;
      }
      return { ...res, message: settledStream(res.message, call, stopWatching) };
    } catch (e) {
      call.end(e);
      stopWatching();
      throw e;
    }
  };
}

/** Ends the call once the response stream ends, fails or is abandoned. */
async function* settledStream<T>(messages: AsyncIterable<T>, call: Call, done: () => void): AsyncGenerator<T> {
  let outcome: unknown;
  let finished = false;
  try {
    yield* messages;
    finished = true;
  } catch (e) {
    outcome = e;
    finished = true;
    throw e;
  } finally {
    call.end(finished ? outcome : new ConnectError(call.aborted ? "the client cancelled the stream" : "the stream was closed early", Code.Canceled));
    done();
  }
}

/** Calls `onGone` when the request's HTTP/2 stream or HTTP/1.1 socket closes; returns the function that stops it. */
function whenClientLeaves(raw: IncomingMessage | Http2ServerRequest | undefined, onGone: () => void): () => void {
  if (raw === undefined) return () => {};
  const target = "stream" in raw ? raw.stream : raw.socket;
  if (target === null || target === undefined) return () => {};
  target.once("close", onGone);
  return () => target.removeListener("close", onGone);
}

/**
 * CreateTask's inputs size for the Python metric. A binary request read ahead of connect has its bytes: the
 * size is read off the wire, as the gRPC fast path does. A JSON request has only the decoded message, and
 * protobuf-es keeps no sizes, so the inputs are encoded again to measure them.
 */
function inputBytesOf(method: DescMethod, message: unknown, ahead: DecodedRequest | undefined): number | undefined {
  // Flyte 2's Inputs or Flyte 1's LiteralMap: the request's own field says which.
  const field = method.input.field["inputs"];
  if (field === undefined) return 0;
  if (ahead !== undefined && "bytes" in ahead) return lengthDelimitedFieldBytes(ahead.bytes, field.number) ?? 0;
  const inputs = (message as { inputs?: Message } | undefined)?.inputs;
  return inputs === undefined || field.message === undefined ? 0 : toBinary(field.message, inputs).byteLength;
}

/** The one request message of a server-streaming call, with connect's own protocol errors. */
async function single(req: StreamRequest): Promise<unknown> {
  const it = req.message[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) throw new ConnectError("protocol error: missing input message for server-streaming method", Code.Unimplemented);
  const second = await it.next();
  if (second.done !== true) throw new ConnectError("protocol error: received extra input message for server-streaming method", Code.Unimplemented);
  return first.value;
}
