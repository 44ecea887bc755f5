import * as http2 from "node:http2";
import { Health } from "../../src/gen/health/v1/health_pb.js";
import { fairDispatch, type StreamListener } from "../../src/service/transport/http2-stream-gate.js";
import { startService, type RunningService } from "../../src/testing/start-service.js";
import { grpcFrame } from "../support/raw-clients.js";

/** A stand-in for a node stream: the turn-taking reads only whether it is still open. */
function fakeStream(name: string): { name: string; destroyed: boolean; closed: boolean } {
  return { name, destroyed: false, closed: false };
}
type Fake = ReturnType<typeof fakeStream>;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("fairDispatch: one stream handed on per turn of the event loop", () => {
  let handed: string[];
  let dispatch: StreamListener;
  const call = (s: Fake) => dispatch(s as unknown as http2.ServerHttp2Stream, {}, 0, []);
  beforeEach(() => {
    handed = [];
    dispatch = fairDispatch((stream) => handed.push((stream as unknown as Fake).name));
  });

  test("the first stream of a turn is handed on at once, the rest one per later turn, in order", async () => {
    for (const name of ["a", "b", "c"]) call(fakeStream(name));
    expect(handed).toEqual(["a"]);
    await turn();
    expect(handed).toEqual(["a", "b"]);
    await turn();
    expect(handed).toEqual(["a", "b", "c"]);
  });

  test("a stream reset or closed while it waited is skipped, and the next takes its turn", async () => {
    const b = fakeStream("b");
    const c = fakeStream("c");
    for (const s of [fakeStream("a"), b, c, fakeStream("d")]) call(s);
    b.destroyed = true;
    c.closed = true;
    await turn();
    expect(handed).toEqual(["a", "d"]);
  });

  test("once the waiting ones are handed on, a new stream goes at once again", async () => {
    call(fakeStream("a"));
    call(fakeStream("b"));
    await turn();
    await turn();
    call(fakeStream("c"));
    expect(handed).toEqual(["a", "b", "c"]);
  });
});

describe("a burst of streams on one connection, through the gate", () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => {
    await svc.close();
  });

  /** gRPC-Web health Checks (connect's path, so gated): `n` at once on one connection, in one write. */
  function burst(session: http2.ClientHttp2Session, n: number): Promise<{ status: number | undefined; body: string }[]> {
    const body = grpcFrame(new Uint8Array(0));
    return Promise.all(
      Array.from({ length: n }, () => {
        const req = session.request({
          ":method": "POST",
          ":path": `/${Health.typeName}/Check`,
          "content-type": "application/grpc-web+proto",
          "x-grpc-web": "1",
        });
        req.end(body);
        return answerOf(req);
      }),
    );
  }

  function answerOf(req: http2.ClientHttp2Stream): Promise<{ status: number | undefined; body: string }> {
    return new Promise((resolve, reject) => {
      let status: number | undefined;
      const chunks: Buffer[] = [];
      req.on("response", (h) => (status = h[":status"]));
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("error", reject);
      req.on("close", () => resolve({ status, body: Buffer.concat(chunks).toString("latin1") }));
    });
  }

  // Each request's body and END_STREAM arrive while it waits for its turn: the handler still reads them.
  test("every stream of a 200-stream burst is answered", async () => {
    const session = http2.connect(svc.url);
    try {
      const answers = await burst(session, 200);
      expect(answers.filter((a) => a.status === 200 && a.body.includes("grpc-status: 0"))).toHaveLength(200);
    } finally {
      session.close();
    }
  });
});
