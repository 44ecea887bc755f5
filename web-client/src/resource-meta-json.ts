/**
 * Resource metadata as a person reads it. Metadata is opaque bytes on the wire; flyte-connect's connectors,
 * like Python's, write UTF-8 JSON, so it is usually shown as JSON and anything else as base64.
 */
export type ResourceMetaView =
  | { readonly kind: "json"; readonly value: unknown; /** Pretty-printed, two-space indent. */ readonly text: string }
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

/**
 * The bytes of resource metadata a person typed or pasted: `base64:<data>` for binary metadata (the form
 * {@link resourceMetaAsJson} shows), anything else as UTF-8 text taken verbatim. The text is not re-serialized,
 * because a connector may compare metadata byte for byte.
 */
export function resourceMetaFromText(text: string): Uint8Array {
  const trimmed = text.trim();
  if (trimmed.startsWith("base64:")) return bytesFromBase64(trimmed.slice("base64:".length).trim());
  return new TextEncoder().encode(trimmed);
}

// btoa/atob exist in browsers and in Node ≥ 16; Buffer does not exist in browsers.
function base64FromBytes(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function bytesFromBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
