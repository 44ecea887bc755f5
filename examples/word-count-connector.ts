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

// Declare the task's interface once: the compiler checks inputs and outputs against it.
const wordCount = defineInterface({
  inputs: { text: t.string(), min_length: t.int() },
  outputs: { o0: t.int(), o1: t.list(t.string()) },
});

// Resource metadata: small, JSON, written the way Python's json.dumps writes a dataclass.
interface WordCountMeta {
  job_id: string;
  count: number;
  longest: string;
}

export class WordCountConnector extends AsyncConnector<WordCountMeta, InputsOf<typeof wordCount>, OutputsOf<typeof wordCount>> {
  readonly name = "Word Count Connector";
  readonly taskTypeName = "word_count";
  override readonly outputTypes = wordCount.outputTypes;
  override readonly metadata = jsonResourceMeta<WordCountMeta>({
    parse: (r) => ({ job_id: requireString(r, "job_id"), count: requireNumber(r, "count"), longest: requireString(r, "longest") }),
  });

  async create(request: CreateRequest<InputsOf<typeof wordCount>>): Promise<WordCountMeta> {
    const { text, min_length } = request.inputs; // string, bigint
    if (min_length < 0n) throw new InvalidTaskError("min_length must not be negative");
    const words = text.split(/\s+/).filter((w) => w.length >= Number(min_length));
    const longest = words.reduce((a, b) => (b.length > a.length ? b : a), "");
    // A real connector would start a job here and keep only its id.
    return { job_id: request.idempotencyKey, count: words.length, longest };
  }

  async get(meta: WordCountMeta): Promise<Resource<OutputsOf<typeof wordCount>>> {
    return { phase: "SUCCEEDED", outputs: { o0: BigInt(meta.count), o1: meta.longest ? [meta.longest] : [] } };
  }

  async delete(): Promise<void> {
    // Nothing to cancel; deleting must still succeed for finished and unknown jobs.
  }
}

// `flyte-connect serve --modules ./word-count-connector.js` registers what a module exports as `connectors`.
export const connectors = [new WordCountConnector()];
