import {
  AsyncConnector,
  defineInterface,
  InvalidTaskError,
  jsonResourceMeta,
  requireNumber,
  requireString,
  t,
  type CreateRequest,
  type InputsOf,
  type OutputsOf,
  type Resource,
} from "flyte-connect";

// The task's interface, declared once. The compiler checks `create` and `get` against it, and the service
// checks every task against it before `create` runs: an input that is missing, extra or of another Flyte type
// is INVALID_ARGUMENT naming it.
export const wordCount = defineInterface({
  inputs: { text: t.string(), min_length: t.int() },
  outputs: { count: t.int(), longest: t.string() },
});

type Inputs = InputsOf<typeof wordCount>; // { text: string; min_length: bigint }
type Outputs = OutputsOf<typeof wordCount>;

// Resource metadata: what identifies the job. The executor stores it and sends it back with every GetTask
// and DeleteTask, so keep it small. JSON, written the way Python's json.dumps writes a dataclass.
export interface WordCountMeta {
  job_id: string;
  count: number;
  longest: string;
}

export class WordCountConnector extends AsyncConnector<WordCountMeta, Inputs, Outputs> {
  readonly name = "Word Count Connector";
  readonly taskTypeName = "word_count";
  override readonly inputTypes = wordCount.inputTypes;
  override readonly outputTypes = wordCount.outputTypes;
  override readonly metadata = jsonResourceMeta<WordCountMeta>({
    parse: (r) => ({ job_id: requireString(r, "job_id"), count: requireNumber(r, "count"), longest: requireString(r, "longest") }),
  });

  // Starts the job and returns at once: the executor's deadline is 10 s. A real connector submits the job
  // to its system here (pass ctx.signal to fetch) and keeps only the job's id.
  async create(request: CreateRequest<Inputs>): Promise<WordCountMeta> {
    const { text, min_length } = request.inputs;
    if (min_length < 0n) throw new InvalidTaskError("min_length must not be negative");
    const words = text.split(/\s+/).filter((w) => w.length >= Number(min_length));
    const longest = words.reduce((a, b) => (b.length > a.length ? b : a), "");
    return { job_id: request.idempotencyKey, count: words.length, longest };
  }

  // Reports the job's state; the executor polls until the phase is terminal. A failed job is a phase
  // (FAILED or RETRYABLE_FAILED with a message), not an exception.
  async get(meta: WordCountMeta): Promise<Resource<Outputs>> {
    return { phase: "SUCCEEDED", message: `${meta.count} words`, outputs: { count: BigInt(meta.count), longest: meta.longest } };
  }

  // Cancels the job. Must succeed for finished, cancelled and unknown jobs alike.
  async delete(): Promise<void> {}
}

// `flyte-connect serve --modules <this package>` registers what the module exports as `connectors`.
export const connectors = [new WordCountConnector()];
