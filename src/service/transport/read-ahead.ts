import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { compressionNegotiate, type Compression, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import { decodeRequestMessage, type LargeRequestDecoding } from "../pipeline/decode-request.js";
import { kDecodedRequest, type DecodedRequest } from "../pipeline/connect-interceptor.js";
import { LARGE_REQUEST_BUSY } from "../pipeline/large-request/large-request-gate.js";

/** Options of {@link readAhead}: the same limits and compressions connect's handlers are built with. */
export interface ReadAheadOptions {
  /** The largest request message, before and after decompression. */
  readonly readMaxBytes: number;
  readonly acceptCompression: readonly Compression[];
  /** Messages at least this large are decoded in slices, and go through `admitLarge` first. */
  readonly largeRequestBytes: number;
  /** Where the slices of large messages take their turns. */
  readonly largeDecoding?: LargeRequestDecoding;
}

/** What {@link readAhead} hands connect, and whether the client's upload was refused before its end. */
export interface ReadAheadResult {
  readonly request: UniversalServerRequest;
  /** A large body was refused while it was arriving: the rest of it should be stopped once answered. */
  readonly refused: boolean;
}

/**
 * Takes a slot of the large-request gate for a body of at least `largeRequestBytes` whose size was not known
 * before it arrived (no `content-length`: the gate's `onRequest` hook could not count it); false: no slot.
 */
export type AdmitLarge = (bytes: number) => boolean;

/** How a binary request carries its one message. */
export interface Framing {
  /** Connect unary: the body is the message; otherwise one length-prefixed envelope. */
  readonly enveloped: boolean;
  /** The header that names the request's compression, and the one that lists what the client accepts back. */
  readonly encodingHeader: string;
  readonly acceptEncodingHeader: string;
}

const CONNECT_UNARY: Framing = { enveloped: false, encodingHeader: "content-encoding", acceptEncodingHeader: "accept-encoding" };
const CONNECT_STREAM: Framing = { enveloped: true, encodingHeader: "connect-content-encoding", acceptEncodingHeader: "connect-accept-encoding" };
const GRPC: Framing = { enveloped: true, encodingHeader: "grpc-encoding", acceptEncodingHeader: "grpc-accept-encoding" };

const ENVELOPE_HEADER = 5;
const COMPRESSED_FLAG = 0b0000_0001;
/** One uncompressed envelope holding an empty message: what connect decodes in place of the real one. */
const EMPTY_ENVELOPE = new Uint8Array(ENVELOPE_HEADER);

/**
 * The framing of a request whose one binary message is read here, or undefined when connect reads it
 * itself: JSON (connect's JSON errors are INVALID_ARGUMENT already), gRPC-Web text, a Connect GET, client
 * and bidi streams, and content types connect would refuse anyway.
 */
export function framingOf(method: DescMethod, httpMethod: string, contentType: string | null): Framing | undefined {
  if (httpMethod !== "POST" || contentType === null) return undefined;
  const kind = method.methodKind;
  if (kind !== "unary" && kind !== "server_streaming") return undefined;
  const type = contentType.toLowerCase();
  if (type === "application/proto") return kind === "unary" ? CONNECT_UNARY : undefined;
  if (type === "application/connect+proto") return kind === "server_streaming" ? CONNECT_STREAM : undefined;
  if (type === "application/grpc" || type === "application/grpc+proto" || type === "application/grpc-web" || type === "application/grpc-web+proto") return GRPC;
  return undefined;
}

/**
 * Reads and decodes a binary request's one message ahead of connect, which would answer a message that
 * does not parse INTERNAL (its binary serialization's wording of every `fromBinary` failure). The message,
 * or its INVALID_ARGUMENT parse error, goes to the call pipeline's interceptor through the request's context
 * values, and connect is handed an empty message in its place, so nothing is decoded twice; connect still
 * checks the request's headers (timeout, compression) and raises its own errors first, and the interceptor
 * raises the parse error where connect raises JSON's. Large messages are decoded in slices, and take a slot of
 * the large-request gate (`admitLarge`) as soon as they are known to be large; without one, the call is
 * RESOURCE_EXHAUSTED the same way, before the rest of the body is read.
 *
 * Only a well-formed request is taken over: one whose size, compression and framing connect would accept.
 * Anything else (too large, an unknown compression, a body that does not inflate, a truncated or second
 * envelope, a client that left mid-body) is handed to connect as it arrived, bytes already read first, and
 * connect answers it with its own words, as before.
 */
export async function readAhead(
  request: UniversalServerRequest,
  framing: Framing,
  method: DescMethod,
  options: ReadAheadOptions,
  admitLarge: AdmitLarge,
): Promise<ReadAheadResult> {
  const compression = compressionNegotiate(
    [...options.acceptCompression],
    request.header.get(framing.encodingHeader),
    request.header.get(framing.acceptEncodingHeader),
    framing.acceptEncodingHeader,
  );
  const asIs = { request, refused: false };
  if (compression.error) return asIs;
  const lengthHint = framing.enveloped ? undefined : contentLength(request.header.get("content-length"));
  if (lengthHint !== undefined && lengthHint > options.readMaxBytes) return asIs;

  const source = (request.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let received = 0;
  let admitted = false;
  const replay = (failure?: { error: unknown }): ReadAheadResult => ({ request: { ...request, body: replayed(chunks, source, failure) }, refused: false });
  try {
    for (let next = await source.next(); next.done !== true; next = await source.next()) {
      chunks.push(next.value);
      received += next.value.byteLength;
      // The message's size as far as it is known: the envelope's declared length, or a unary body's bytes so far.
      const size = framing.enveloped ? envelopeLength(chunks, received) : received;
      if (size === undefined) continue;
      // Over the limit, or bytes past the first envelope (a second message): connect's to refuse.
      if (size > options.readMaxBytes || (framing.enveloped && received > ENVELOPE_HEADER + size)) return replay();
      // A large body takes its slot as soon as it is known to be large, before the rest is read.
      if (!admitted && size >= options.largeRequestBytes) {
        if (!admitLarge(size)) return standingIn(request, framing, { error: new ConnectError(LARGE_REQUEST_BUSY, Code.ResourceExhausted) }, true);
        admitted = true;
      }
    }
  } catch (error) {
    return replay({ error });
  }

  const body = concat(chunks, received);
  let data: Uint8Array;
  if (framing.enveloped) {
    if (received < ENVELOPE_HEADER || received !== ENVELOPE_HEADER + declaredLength(body)) return replay();
    const flags = body[0]!;
    if ((flags & ~COMPRESSED_FLAG) !== 0) return replay();
    data = body.subarray(ENVELOPE_HEADER);
    if ((flags & COMPRESSED_FLAG) !== 0) {
      if (compression.request === null) return replay();
      try {
        data = await compression.request.decompress(data, options.readMaxBytes);
      } catch {
        return replay();
      }
    }
  } else {
    if (lengthHint !== undefined && lengthHint !== received) return replay();
    data = body;
    if (compression.request !== null) {
      try {
        data = await compression.request.decompress(data, options.readMaxBytes);
      } catch {
        return replay();
      }
    }
  }
  if (data.byteLength > options.readMaxBytes) return replay();

  let decoded: DecodedRequest;
  try {
    decoded = { message: await decodeRequestMessage(method.input, data, options.largeRequestBytes, options.largeDecoding), bytes: data };
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    decoded = { error: e };
  }
  return standingIn(request, framing, decoded, false);
}

/** The request connect gets: an empty stand-in for the body, and what was decoded (or refused) in the context. */
function standingIn(request: UniversalServerRequest, framing: Framing, decoded: DecodedRequest, refused: boolean): ReadAheadResult {
  const contextValues = request.contextValues ?? createContextValues();
  contextValues.set(kDecodedRequest, decoded);
  const header = request.header;
  // connect would check the original length against the empty stand-in.
  if (!framing.enveloped) header.delete("content-length");
  return { request: { ...request, header, contextValues, body: standIn(framing) }, refused };
}

/** The first envelope's declared length, once its 5-byte prefix is in. */
function envelopeLength(chunks: readonly Uint8Array[], received: number): number | undefined {
  if (received < ENVELOPE_HEADER) return undefined;
  return declaredLength(chunks[0]!.byteLength >= ENVELOPE_HEADER ? chunks[0]! : concat(chunks, received));
}

function declaredLength(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, ENVELOPE_HEADER).getUint32(1);
}

function contentLength(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

async function* standIn(framing: Framing): AsyncGenerator<Uint8Array> {
  if (framing.enveloped) yield EMPTY_ENVELOPE;
}

/** The body as it arrived: the chunks read so far, then the rest (or the error that ended the reading). */
async function* replayed(chunks: readonly Uint8Array[], rest: AsyncIterator<Uint8Array>, failure?: { error: unknown }): AsyncGenerator<Uint8Array> {
  yield* chunks;
  if (failure) throw failure.error;
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
