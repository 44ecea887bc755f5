import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { StorageError } from "./storage-error.js";

/** Where a Flyte URI points, by store. */
export type StoreLocation =
  | { readonly store: "file"; readonly path: string }
  | { readonly store: "s3"; readonly bucket: string; readonly key: string }
  | { readonly store: "gs"; readonly bucket: string; readonly key: string }
  /**
   * `abfs[s]://container@account.dfs.core.windows.net/path`, `abfs[s]://container/path` (account from the
   * configuration), or a blob URL `https://account.blob.core.windows.net/container/path`; `url` is set for
   * the last, as the store resolves its endpoint (an emulator's URL carries the account in its path).
   */
  | {
      readonly store: "azure";
      readonly account: string;
      readonly container: string;
      readonly blob: string;
      /** The account's blob endpoint, when the URI names its host. */
      readonly endpoint?: string;
      readonly url?: URL;
    };

/** The Azure hosts of the ADLS Gen2 (dfs) and blob endpoints, in the public and sovereign clouds. */
const AZURE_HOST = /^([a-z0-9]{3,24})\.(dfs|blob)\.(core\.windows\.net|core\.chinacloudapi\.cn|core\.usgovcloudapi\.net)$/;

/**
 * Parses a Flyte URI: `s3://`, `gs://`, `abfs://`, `abfss://`, an `http(s)://` Azure blob URL, `file://` or a
 * plain path (relative paths resolve against the working directory). Throws {@link StorageError} for
 * anything else.
 */
export function parseFlyteUri(uri: string, operation: "read" | "write" = "read"): StoreLocation {
  const bad = (detail: string, failure: "invalid-uri" | "unsupported" = "invalid-uri") => new StorageError(operation, uri, failure, detail);
  if (uri === "") throw bad("the URI is empty");
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return { store: "file", path: resolve(uri) };
  if (scheme === "file") {
    try {
      return { store: "file", path: fileURLToPath(uri) };
    } catch (err) {
      throw bad((err as Error).message);
    }
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw bad("not a URL");
  }
  const path = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  switch (scheme) {
    case "s3":
    case "gs": {
      if (url.hostname === "") throw bad(`a ${scheme}:// URI names a bucket: ${scheme}://bucket/key`);
      if (path === "") throw bad("the URI names a bucket but no object");
      return { store: scheme, bucket: url.hostname, key: path };
    }
    case "abfs":
    case "abfss": {
      const container = decodeURIComponent(url.username);
      if (container !== "") {
        const host = AZURE_HOST.exec(url.hostname);
        if (!host) throw bad("expected abfs[s]://container@account.dfs.core.windows.net/path");
        return { store: "azure", account: host[1]!, container, blob: path, endpoint: `https://${host[1]}.blob.${host[3]}` };
      }
      // abfs://container/path: the account comes from the configuration.
      if (url.hostname === "" || path === "") throw bad("expected abfs[s]://container@account.dfs.core.windows.net/path or abfs[s]://container/path");
      return { store: "azure", account: "", container: url.hostname, blob: path };
    }
    case "http":
    case "https": {
      const host = AZURE_HOST.exec(url.hostname);
      if (host) {
        const [container, ...rest] = path.split("/");
        if (!container || rest.length === 0) throw bad("expected https://account.blob.core.windows.net/container/path");
        return { store: "azure", account: host[1]!, container, blob: rest.join("/"), endpoint: url.origin };
      }
      // Any other http(s) URL may be an Azure emulator's (http://127.0.0.1:10000/devstoreaccount1/container/path);
      // the Azure store accepts it only when it matches the configured connection string.
      return { store: "azure", account: "", container: "", blob: "", url };
    }
    default:
      throw bad(`the ${scheme}:// scheme is not supported (s3, gs, abfs, abfss, https Azure blob URLs, file and plain paths are)`, "unsupported");
  }
}

/**
 * The URI of `name` under a prefix: `s3://b/p` + `outputs.pb` → `s3://b/p/outputs.pb`. `name` is a relative
 * path of plain segments; `..` and absolute names are refused, so nothing lands outside the prefix.
 */
export function uriUnder(prefix: string, name: string): string {
  if (prefix === "") throw new StorageError("write", name, "invalid-uri", "the task has no output prefix (the caller sent none)");
  const segments = name.split("/");
  if (name === "" || isAbsolute(name) || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new StorageError("write", `${prefix}/${name}`, "invalid-uri", `${JSON.stringify(name)} is not a relative path of plain segments`);
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(prefix)) return `${prefix.replace(/\/+$/, "")}/${segments.map(encodeSegmentIfUrl(prefix)).join("/")}`;
  return join(prefix, ...segments);
}

/** http(s) and file URLs are percent-encoded; the object stores' URIs are not. */
function encodeSegmentIfUrl(prefix: string): (segment: string) => string {
  return /^(https?|file):/i.test(prefix) ? (s) => encodeURIComponent(s) : (s) => s;
}
