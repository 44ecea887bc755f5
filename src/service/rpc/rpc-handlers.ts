import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { kPipelineCall } from "../pipeline/connect-interceptor.js";
import type { CallSignal } from "./connector-invoker.js";

/**
 * A service implementation both transports run: each unary method takes the decoded request and the call's
 * signal (built lazily on the gRPC fast path) instead of connect's `HandlerContext`, which the fast path
 * never creates.
 */
type MethodsOf<S extends DescService> = S extends { method: infer M } ? M : never;

type UnaryHandler<M> = M extends { input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageShape<I>, signal: CallSignal) => MessageInitShape<O> | Promise<MessageInitShape<O>>
  : never;

/** The unary methods of a service, by their local names (`getTask`). */
export type UnaryHandlers<S extends DescService> = {
  readonly [K in keyof MethodsOf<S> as MethodsOf<S>[K] extends { methodKind: "unary" } ? K : never]: UnaryHandler<MethodsOf<S>[K]>;
};

/** A service's unary handlers, as the gRPC fast path looks them up. */
export interface UnaryService<S extends DescService = DescService> {
  readonly service: S;
  readonly handlers: Partial<UnaryHandlers<S>>;
}

/** The handler's signal in a connect call: the pipeline's call (which follows connect's), or connect's own. */
export function callSignalOf(ctx: HandlerContext): CallSignal {
  return ctx.values.get(kPipelineCall) ?? ctx.signal;
}

/** connect's form of a unary handler. */
export function connectUnary<I, O>(handler: (request: I, signal: CallSignal) => O): (request: I, ctx: HandlerContext) => O {
  return (request, ctx) => handler(request, callSignalOf(ctx));
}
