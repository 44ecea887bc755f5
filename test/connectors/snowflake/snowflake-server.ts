import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from "node:crypto";
import { startVendorServer, verifyRs256Jwt, type RecordedRequest, type Reply, type VendorServer } from "../../helpers/vendor-server.js";

/**
 * A local Snowflake SQL API v2, as Snowflake's reference documents it: `POST /api/v2/statements`
 * (`async=true`, `requestId`, `retry`), `GET /api/v2/statements/{statementHandle}` and
 * `POST /api/v2/statements/{statementHandle}/cancel`.
 *
 * It checks what Snowflake checks: a key-pair JWT (`X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT`)
 * whose RS256 signature verifies with the user's registered public key and whose `iss` is
 * `ACCOUNT.USER.SHA256:<fingerprint>` and `sub` `ACCOUNT.USER`, lasting at most an hour; a User-Agent; the
 * statement and its context; and bindings numbered "1".."n", one per `?`, of SQL API types with string
 * values. A statement is queued, then running (both 202), then done (200, a ResultSet), one step per GET
 * (so tests see every state however slow the machine); `SYNTAX_ERROR` is
 * refused at submit with a 422 that carries its handle, `DIVIDE_BY_ZERO` fails while running (422),
 * `RUN_LONG` runs until cancelled, and a cancelled one reads 422 SQLSTATE 57014.
 */
export interface SnowflakeServer extends VendorServer {
  readonly account: string;
  readonly user: string;
  /** The user's key pair, as `ALTER USER … SET RSA_PUBLIC_KEY` registered it; the private half PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** The same key, encrypted with {@link passphrase}. */
  readonly encryptedPrivateKeyPem: string;
  readonly passphrase: string;
  readonly fingerprint: string;
  readonly statements: ReadonlyMap<string, Statement>;
  /** A statement submitted by another client (the Python driver). */
  seedStatement(sql: string): string;
}

export interface Statement {
  readonly handle: string;
  readonly body: Record<string, unknown>;
  readonly submittedAt: number;
  cancelled: boolean;
  /** GETs answered so far: the statement's clock. */
  polls: number;
}

const BINDING_TYPES = new Set(["FIXED", "REAL", "TEXT", "BINARY", "BOOLEAN", "DATE", "TIME", "TIMESTAMP_LTZ", "TIMESTAMP_NTZ", "TIMESTAMP_TZ"]);

const status = (code: number, body: Record<string, unknown>): Reply => ({ status: code, body });
const statusUrl = (handle: string) => `/api/v2/statements/${handle}`;

/** `?` placeholders outside quotes and comments. */
function placeholders(sql: string): number {
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g, "").split("?").length - 1;
}

function checkBindings(statement: string, bindings: unknown): string | undefined {
  const n = placeholders(statement);
  if (bindings === undefined) return n === 0 ? undefined : `Bind variable ? not set.`;
  if (typeof bindings !== "object" || bindings === null) return "bindings must be an object";
  const entries = Object.entries(bindings as Record<string, { type?: unknown; value?: unknown }>);
  if (entries.length !== n) return `the statement has ${n} bind variables and ${entries.length} bindings`;
  for (let i = 1; i <= n; i++) {
    const b = (bindings as Record<string, { type?: unknown; value?: unknown }>)[String(i)];
    if (!b) return `Bind variable ${i} not set.`;
    if (typeof b.type !== "string" || !BINDING_TYPES.has(b.type)) return `Unsupported bind type ${String(b.type)} for binding ${i}`;
    if (b.value !== null && typeof b.value !== "string") return `binding ${i}: value must be a string`;
    if (b.type === "FIXED" && typeof b.value === "string" && !/^-?\d+$/.test(b.value)) return `Numeric value '${b.value}' is not recognized`;
    if (b.type === "BOOLEAN" && typeof b.value === "string" && !/^(true|false)$/i.test(b.value)) return `Boolean value '${b.value}' is not recognized`;
  }
  return undefined;
}

export async function startSnowflakeServer(options: { account?: string; user?: string } = {}): Promise<SnowflakeServer> {
  const account = options.account ?? "myorg-myacct";
  const user = options.user ?? "FLYTE_SVC";
  const passphrase = "correct horse battery staple";
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const encryptedPrivateKeyPem = privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase }) as string;
  const userKey: KeyObject = publicKey;
  const fingerprint = `SHA256:${createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("base64")}`;
  const qualified = `${account.split(".")[0]!.toUpperCase()}.${user.toUpperCase()}`;
  const statements = new Map<string, Statement>();
  const byRequestId = new Map<string, string>();

  const authenticate = async (req: RecordedRequest): Promise<Reply | undefined> => {
    const invalid = (why: string) => status(401, { code: "390144", message: `JWT token is invalid. [${randomUUID()}]`, why });
    if (req.headers["x-snowflake-authorization-token-type"] !== "KEYPAIR_JWT") return invalid("token type header is not KEYPAIR_JWT");
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    if (!m) return status(401, { code: "390101", message: "Authorization header not found in the request data." });
    const verified = await verifyRs256Jwt(m[1]!, userKey);
    if ("refused" in verified) return invalid(verified.refused);
    const { claims } = verified;
    if (claims["iss"] !== `${qualified}.${fingerprint}`) return invalid(`iss ${String(claims["iss"])}`);
    if (claims["sub"] !== qualified) return invalid(`sub ${String(claims["sub"])}`);
    if ((claims["exp"] as number) - (claims["iat"] as number) > 3600) return invalid("lifetime over one hour");
    if (!req.headers["user-agent"]) return status(400, { code: "391903", message: "User-Agent header is required." });
    return undefined;
  };

  const answer = (s: Statement): Reply => {
    const sql = String(s.body["statement"]);
    const common = { statementHandle: s.handle, statementStatusUrl: statusUrl(s.handle) };
    if (s.cancelled) return status(422, { code: "000604", sqlState: "57014", message: "SQL execution canceled", ...common });
    if (sql.includes("SYNTAX_ERROR"))
      return status(422, {
        code: "001003",
        sqlState: "42000",
        message: "SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'SYNTAX_ERROR'.",
        ...common,
      });
    if (s.polls < 3 || sql.includes("RUN_LONG")) {
      return status(202, {
        code: "333334",
        message: "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.",
        ...common,
      });
    }
    if (sql.includes("DIVIDE_BY_ZERO")) return status(422, { code: "100051", sqlState: "22012", message: "Division by zero", ...common });
    return status(200, {
      resultSetMetaData: {
        numRows: 1,
        format: "jsonv2",
        rowType: [{ name: "N", type: "fixed", nullable: false }],
        partitionInfo: [{ rowCount: 1, uncompressedSize: 8 }],
      },
      data: [["1"]],
      code: "090001",
      sqlState: "00000",
      message: "Statement executed successfully.",
      createdOn: s.submittedAt,
      ...common,
    });
  };

  const server = await startVendorServer(async (req) => {
    const refused = await authenticate(req);
    if (refused) return refused;
    if (req.method === "POST" && req.path === "/api/v2/statements") {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(req.body) as Record<string, unknown>;
      } catch {
        return status(400, { code: "390142", message: "Incoming request does not contain a valid payload." });
      }
      if (typeof body["statement"] !== "string" || body["statement"] === "") return status(400, { code: "391901", message: "statement is required" });
      for (const key of ["database", "schema", "warehouse", "role"]) {
        if (body[key] !== undefined && typeof body[key] !== "string") return status(400, { code: "391902", message: `${key} must be a string` });
      }
      const problem = checkBindings(body["statement"], body["bindings"]);
      if (problem) return status(422, { code: "002049", sqlState: "07000", message: problem });
      const requestId = req.query.get("requestId");
      if (requestId !== null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(requestId))
        return status(400, { code: "391904", message: "requestId is not a UUID" });
      const earlier = requestId !== null && req.query.get("retry") === "true" ? byRequestId.get(requestId) : undefined;
      if (earlier) return answer(statements.get(earlier)!);
      const handle = randomUUID();
      const s: Statement = { handle, body, submittedAt: Date.now(), cancelled: false, polls: 0 };
      statements.set(handle, s);
      if (requestId !== null) byRequestId.set(requestId, handle);
      const first = answer(s);
      return first.status === 422
        ? first
        : status(202, {
            code: "333334",
            message: "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.",
            statementHandle: handle,
            statementStatusUrl: statusUrl(handle),
          });
    }
    const m = /^\/api\/v2\/statements\/([^/]+)(\/cancel)?$/.exec(req.path);
    const s = m ? statements.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m || !s) return status(404, { code: "000709", message: `Statement ${m?.[1] ?? ""} not found` });
    if (req.method === "GET" && !m[2]) {
      s.polls++;
      return answer(s);
    }
    if (req.method === "POST" && m[2]) {
      if (answer(s).status !== 202)
        return status(422, { code: "000605", message: "Identified SQL statement is not currently executing.", statementHandle: s.handle });
      s.cancelled = true;
      return status(200, {
        code: "000604",
        sqlState: "57014",
        message: "Statement aborted.",
        statementHandle: s.handle,
        statementStatusUrl: statusUrl(s.handle),
      });
    }
    return status(405, { message: "method not allowed" });
  });
  const seedStatement = (sql: string) => {
    const handle = `01b2c3d4-0000-1111-0000-${String(statements.size).padStart(12, "0")}`;
    statements.set(handle, { handle, body: { statement: sql }, submittedAt: Date.now(), cancelled: false, polls: 0 });
    return handle;
  };
  return Object.assign(server, { account, user, privateKeyPem, encryptedPrivateKeyPem, passphrase, fingerprint, statements, seedStatement });
}
