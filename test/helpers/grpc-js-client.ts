import {
  create,
  fromBinary,
  toBinary,
  type MessageInitShape,
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageShape,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

/**
 * A client for a protobuf-es service built on @grpc/grpc-js, the independent gRPC stack that stands in for
 * the Go executor: its own HTTP/2 framing, deadlines and status handling, nothing shared with our server.
 */
export type GrpcJsClient<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethod & { methodKind: "unary" }
    ? (req: MessageInitShape<S["method"][K]["input"]>, options?: CallOptions) => Promise<MessageShape<S["method"][K]["output"]>>
    : S["method"][K] extends DescMethod & { methodKind: "server_streaming" }
      ? (req: MessageInitShape<S["method"][K]["input"]>, options?: CallOptions) => AsyncIterable<MessageShape<S["method"][K]["output"]>>
      : never;
} & { close(): void; raw: grpc.Client };

export interface CallOptions {
  /** Milliseconds from now; the executor uses 10 s. */
  readonly timeoutMs?: number;
  readonly metadata?: Record<string, string>;
}

export interface GrpcJsClientOptions {
  readonly credentials?: grpc.ChannelCredentials;
  readonly channelOptions?: grpc.ChannelOptions;
}

function codec<M extends DescMessage>(schema: M) {
  return {
    // Requests may be plain init objects, as with connect clients.
    serialize: (m: MessageInitShape<M>) => Buffer.from(toBinary(schema, create(schema, m))),
    deserialize: (b: Buffer) => fromBinary(schema, b),
  };
}

export function grpcJsClient<S extends DescService>(service: S, address: string, options: GrpcJsClientOptions = {}): GrpcJsClient<S> {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) {
    const input = codec(m.input);
    const output = codec(m.output);
    definition[m.localName] = {
      path: `/${service.typeName}/${m.name}`,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: input.serialize as (v: unknown) => Buffer,
      requestDeserialize: input.deserialize,
      responseSerialize: output.serialize as (v: unknown) => Buffer,
      responseDeserialize: output.deserialize,
    };
  }
  const Ctor = grpc.makeGenericClientConstructor(definition, service.typeName);
  const client = new Ctor(address, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions ?? {});
  const callOptions = (o: CallOptions | undefined): grpc.CallOptions => (o?.timeoutMs ? { deadline: Date.now() + o.timeoutMs } : {});
  const meta = (o: CallOptions | undefined) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(o?.metadata ?? {})) md.set(k, v);
    return md;
  };
  const out: Record<string, unknown> = { close: () => client.close(), raw: client };
  for (const m of service.methods) {
    const fn = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[m.localName]!.bind(client);
    if (m.methodKind === "unary") {
      out[m.localName] = (req: unknown, o?: CallOptions) =>
        new Promise((resolve, reject) => fn(req, meta(o), callOptions(o), (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res))));
    } else if (m.methodKind === "server_streaming") {
      out[m.localName] = (req: unknown, o?: CallOptions) => fn(req, meta(o), callOptions(o)) as AsyncIterable<unknown>;
    }
  }
  return out as GrpcJsClient<S>;
}

/**
 * The gRPC status of a failed grpc-js call. grpc-message is percent-encoded on the wire; grpc-js decodes
 * it with decodeURI, which leaves reserved characters such as ":" and "," encoded, while grpc-go (the
 * executor) decodes every escape. We decode as grpc-go does, so tests see what the executor sees.
 */
export async function grpcStatusOf(p: Promise<unknown> | (() => Promise<unknown>)): Promise<{ code: grpc.status; details: string }> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: err.code, details: decodeURIComponent(err.details) };
  }
  throw new Error("expected the call to fail, but it succeeded");
}
