/**
 * Resource metadata as a person reads it. Metadata is opaque bytes on the wire; flyte-connect's connectors,
 * like Python's, write UTF-8 JSON, so it is usually shown as JSON and anything else as base64.
 */
export type ResourceMetaView =
  | { readonly kind: "json"; readonly value: unknown /** Pretty-printed, two-space indent. */; readonly text: string }
  | { readonly kind: "binary"; readonly base64: string };

/**
 * Shows resource metadata as JSON when it is JSON text, or as base64 when it is not; never throws.
 *
 * @example
 * const view = resourceMetaAsJson(created.resourceMeta);
 * pre.textContent = view.kind === "json" ? view.text : `base64:${view.base64}`;
 */
export function resourceMetaAsJson(bytes: Uint8Array): ResourceMetaView {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const value: unknown = JSON.parse(text);
    return { kind: "json", value, text: JSON.stringify(value, null, 2) };
  } catch {
    return { kind: "binary", base64: base64FromBytes(bytes) };
  }
}

/** Pasted resource metadata that is none of the forms {@link resourceMetaFromText} reads. */
export class ResourceMetaTextError extends Error {
  override readonly name = "ResourceMetaTextError";
}

/** What the dashboard says it takes, in the words of the error it shows. */
export const RESOURCE_META_FORMS =
  'paste the resourceMeta CreateTask returned over JSON (base64, such as "eyJqb2JfaWQiOiAiYWJjIn0="), the metadata as JSON text (such as {"job_id": "abc"}), or base64:<data>';

/**
 * The bytes of resource metadata a person typed or pasted, in any of the forms they have at hand:
 * - `base64:<data>`, the form {@link resourceMetaAsJson} shows binary metadata in;
 * - JSON text (an object or an array), taken verbatim as UTF-8: it is not re-serialized, because a connector
 *   may compare metadata byte for byte;
 * - bare base64 (standard or URL-safe), what CreateTask's `resourceMeta` is in a Connect JSON answer.
 * Throws {@link ResourceMetaTextError} saying which forms it takes for anything else.
 *
 * @example
 * resourceMetaFromText('{"job_id": "abc"}'); resourceMetaFromText("eyJqb2JfaWQiOiAiYWJjIn0=");
 */
export function resourceMetaFromText(text: string): Uint8Array {
  const trimmed = text.trim();
  if (trimmed === "") throw new ResourceMetaTextError(`no resource metadata: ${RESOURCE_META_FORMS}`);
  if (trimmed.startsWith("base64:")) {
    const data = trimmed.slice("base64:".length).trim();
    const bytes = bytesFromBase64(data);
    if (bytes === undefined) throw new ResourceMetaTextError(`the text after "base64:" is not base64: ${RESOURCE_META_FORMS}`);
    return bytes;
  }
  if (isJsonContainer(trimmed)) return new TextEncoder().encode(trimmed);
  const bytes = bytesFromBase64(trimmed);
  if (bytes !== undefined) return bytes;
  const what = /^[[{]/.test(trimmed) ? "looks like JSON but does not parse" : "is neither JSON nor base64";
  throw new ResourceMetaTextError(`the resource metadata ${what}: ${RESOURCE_META_FORMS}`);
}

function isJsonContainer(text: string): boolean {
  if (!/^[[{]/.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// btoa/atob exist in browsers and in Node ≥ 16; Buffer does not exist in browsers.
function base64FromBytes(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Standard or URL-safe base64, padded or not; undefined for anything else. */
function bytesFromBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) return undefined;
  const standard = compact.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (standard.length % 4 === 1) return undefined;
  let binary: string;
  try {
    binary = atob(standard.padEnd(standard.length + ((4 - (standard.length % 4)) % 4), "="));
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
