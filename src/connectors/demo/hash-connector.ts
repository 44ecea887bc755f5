import { createHash, getHashes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { LiteralTypeSchema, SimpleType } from "#idl/flyteidl2/core/types_pb.js";
import type { CreateRequest, OutputTypes } from "../connector.js";
import { InvalidTaskError } from "../errors.js";
import { SyncConnector } from "../sync-connector.js";

const STRING = create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.STRING } });

/**
 * A demo sync connector with no external dependency: the hex digest of the `data` input (a string or bytes),
 * by `custom.algorithm` (default sha256), as the output `digest`. Flyte 1 runs it with one ExecuteTaskSync call;
 * Flyte 2 with CreateTask and one GetTask.
 */
export class HashConnector extends SyncConnector<{ data?: unknown }, { digest: string }> {
  readonly name = "Hash Connector";
  readonly taskTypeName = "hash";
  override readonly outputTypes: OutputTypes = { digest: STRING };

  async execute(request: CreateRequest<{ data?: unknown }>): Promise<{ digest: string }> {
    const algorithm = request.template.custom?.["algorithm"] ?? "sha256";
    if (typeof algorithm !== "string" || !getHashes().includes(algorithm)) {
      throw new InvalidTaskError(`custom["algorithm"] must be a hash algorithm name such as "sha256", got ${JSON.stringify(algorithm)}`);
    }
    const data = request.inputs.data;
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new InvalidTaskError(`input "data" must be a string or bytes, got ${data === undefined ? "nothing" : typeof data}`);
    }
    return { digest: createHash(algorithm).update(data).digest("hex") };
  }
}
