import { toBinary, type Message } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { TaskExecution_Phase } from "#idl/flyteidl2/core/execution_pb.js";
import { codeOf, kCallInfo, observeStream } from "./call-info.js";
import type { ServiceMetrics } from "./metrics.js";

/**
 * Records every RPC in the service metrics: started, ended with which code, how long it took and, for
 * connector calls, the Python series, the GetTask phase and the in-flight gauge. It sits just inside
 * `callInfoInterceptor`, so calls refused by auth, drain or limits are counted too.
 */
export function metricsInterceptor(metrics: ServiceMetrics): Interceptor {
  return (next) => async (req) => {
    const info = req.contextValues.get(kCallInfo);
    if (!info) return next(req);
    metrics.started(info);
    // Python observes `request.inputs.ByteSize()`, 0 when absent (python-reference.md §2.1).
    if (info.operation === "create" && !req.stream) {
      // Flyte 2's Inputs or Flyte 1's LiteralMap: the request's own field type says which.
      const field = req.method.input.field["inputs"];
      const inputs = (req.message as { inputs?: Message }).inputs;
      metrics.inputBytes(info, inputs && field?.message ? toBinary(field.message, inputs).byteLength : 0);
    }
    let res;
    try {
      res = await next(req);
    } catch (e) {
      metrics.handled(info, codeOf(e));
      throw e;
    }
    if (res.stream) {
      return { ...res, message: observeStream(res.message, req.signal, (e) => metrics.handled(info, e === undefined ? undefined : codeOf(e))) };
    }
    const phase = info.operation === "get" ? (res.message as { resource?: { phase?: TaskExecution_Phase } }).resource?.phase : undefined;
    metrics.handled(info, undefined, phase);
    return res;
  };
}
