import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small Google Cloud Storage server for tests: it speaks the parts of the GCS JSON API that the official
 * SDK uses to upload and download objects, as the real service answers them:
 * - `POST /upload/storage/v1/b/{bucket}/o?uploadType=multipart&name=…` (a `multipart/related` body: JSON
 *   metadata, then the media), answered with the object resource including `md5Hash` and `crc32c`, which the
 *   SDK checks against what it sent;
 * - `GET /storage/v1/b/{bucket}/o/{object}?alt=media` with `x-goog-hash` and `x-goog-generation`;
 * - `GET /storage/v1/b/{bucket}/o/{object}` (the object resource);
 * - errors as GCS sends them: `{"error":{"code","message","errors":[{"reason"}]}}`, 404 for a missing bucket
 *   or object, 403 for a write to a bucket the caller may only read.
 * An object becomes visible only once its whole upload has arrived. Not covered: resumable uploads, XML API,
 * listing, ACLs, authentication (the SDK sends none to a custom endpoint).
 */
export interface GcsServer {
  readonly endpoint: string;
  readonly objects: Map<string, Buffer>;
  close(): Promise<void>;
}

export async function startGcsServer(options: { buckets: readonly string[]; readOnlyBuckets?: readonly string[] }): Promise<GcsServer> {
  const objects = new Map<string, Buffer>();
  const generations = new Map<string, number>();
  const readOnly = new Set(options.readOnlyBuckets ?? []);
  const buckets = new Set([...options.buckets, ...readOnly]);
  let generation = 1_700_000_000_000_000;

  const resourceOf = (bucket: string, name: string) => {
    const data = objects.get(`${bucket}/${name}`)!;
    return {
      kind: "storage#object",
      id: `${bucket}/${name}/${generations.get(`${bucket}/${name}`)}`,
      bucket,
      name,
      size: String(data.length),
      generation: String(generations.get(`${bucket}/${name}`)),
      metageneration: "1",
      contentType: "application/octet-stream",
      md5Hash: createHash("md5").update(data).digest("base64"),
      crc32c: crc32cBase64(data),
    };
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://gcs.local");
      const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
      const object = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
      if (req.method === "POST" && upload) {
        const bucket = decodeURIComponent(upload[1]!);
        const body = await bodyOf(req);
        if (!buckets.has(bucket)) return error(res, 404, "notFound", "The specified bucket does not exist.");
        if (readOnly.has(bucket)) {
          return error(
            res,
            403,
            "forbidden",
            `caller does not have storage.objects.create access to the Google Cloud Storage object. Permission 'storage.objects.create' denied on resource (or it may not exist).`,
          );
        }
        if (url.searchParams.get("uploadType") !== "multipart") return error(res, 400, "invalid", "only uploadType=multipart is served here");
        const boundary = /boundary="?([^";]+)"?/.exec(req.headers["content-type"] ?? "")?.[1];
        if (!/^multipart\/related/.test(req.headers["content-type"] ?? "") || boundary === undefined)
          return error(res, 400, "invalid", "expected a multipart/related body");
        const parts = multipartParts(body, boundary);
        if (parts.length !== 2) return error(res, 400, "invalid", `expected 2 parts (metadata, media), got ${parts.length}`);
        const metadata = JSON.parse(parts[0]!.toString("utf8")) as { name?: string };
        const name = url.searchParams.get("name") ?? metadata.name;
        if (!name) return error(res, 400, "required", "Required: the object name");
        objects.set(`${bucket}/${name}`, parts[1]!);
        generations.set(`${bucket}/${name}`, ++generation);
        return json(res, 200, resourceOf(bucket, name));
      }
      if (req.method === "GET" && object) {
        const bucket = decodeURIComponent(object[1]!);
        const name = decodeURIComponent(object[2]!);
        if (!buckets.has(bucket)) return error(res, 404, "notFound", "The specified bucket does not exist.");
        const data = objects.get(`${bucket}/${name}`);
        if (data === undefined) return error(res, 404, "notFound", `No such object: ${bucket}/${name}`);
        if (url.searchParams.get("alt") !== "media") return json(res, 200, resourceOf(bucket, name));
        const r = resourceOf(bucket, name);
        res.writeHead(200, {
          "content-type": "application/octet-stream",
          "content-length": data.length,
          "x-goog-hash": `crc32c=${r.crc32c},md5=${r.md5Hash}`,
          "x-goog-generation": r.generation,
          "x-goog-stored-content-length": data.length,
        });
        return res.end(data);
      }
      return error(res, 404, "notFound", `Not Found: ${req.method} ${url.pathname}`);
    } catch (e) {
      if (!res.headersSent) error(res, 500, "backendError", String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function bodyOf(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
    req.on("aborted", () => reject(new Error("upload aborted")));
  });
}

/** The bodies of a multipart/related message's parts, headers stripped. */
function multipartParts(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const from = start + delimiter.length;
    if (body.subarray(from, from + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, from);
    if (next === -1) break;
    const part = body.subarray(from, next);
    const headerEnd = part.indexOf("\r\n\r\n");
    // The part's content ends with the CRLF before the next delimiter.
    parts.push(part.subarray(headerEnd + 4, part.length - 2));
    start = next;
  }
  return parts;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function error(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { error: { code, message, errors: [{ message, domain: "global", reason }] } });
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli) as GCS reports it: the big-endian 4 bytes, base64. */
function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString("base64");
}
