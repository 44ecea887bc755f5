/**
 * The little template language of the HTTP job connector: `{{ name }}` inserts a value, `{{{ name }}}` inserts
 * it raw. In a URL, `{{ }}` percent-encodes the value (an input can never add a path segment or a query
 * parameter), and `{{{ }}}` does not (for a base URL from the connection's configs). In headers and text
 * bodies both insert the value as it is. In a JSON body, a string that is exactly one placeholder becomes the
 * value itself (a number stays a number); placeholders inside longer strings are interpolated.
 *
 * Names: `inputs.<input>`, `configs.<key>`, `secrets.<key>`, `job_id`, `idempotency_key`, and
 * `submit.<field>.<field>…` (fields of the submit response).
 */

const PLACEHOLDER = /\{\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}\}|\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;
const WHOLE = /^\s*(?:\{\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}\}|\{\{\s*([A-Za-z_][\w.-]*)\s*\}\})\s*$/;

/** Looks a name up; returns `undefined` for an unknown name. */
export type TemplateResolver = (name: string) => unknown;

/** A template named something that has no value. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

/** The names a template refers to, in order of appearance. */
export function templateNames(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => (m[1] ?? m[2])!);
}

/** The names referred to anywhere in a JSON template (strings, nested objects and arrays). */
export function jsonTemplateNames(template: unknown): string[] {
  if (typeof template === "string") return templateNames(template);
  if (Array.isArray(template)) return template.flatMap(jsonTemplateNames);
  if (typeof template === "object" && template !== null) return Object.values(template).flatMap(jsonTemplateNames);
  return [];
}

function lookup(resolve: TemplateResolver, name: string): unknown {
  const value = resolve(name);
  if (value === undefined) throw new TemplateError(`the template refers to {{${name}}}, which has no value`);
  return value;
}

/** A value as text: strings as they are, everything else as JSON. */
function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Renders a URL, a header or a text body. `url` mode percent-encodes `{{ }}` values. */
export function renderTemplate(template: string, resolve: TemplateResolver, mode: "url" | "text"): string {
  return template.replace(PLACEHOLDER, (_m, raw: string | undefined, escaped: string | undefined) => {
    const value = text(lookup(resolve, (raw ?? escaped)!));
    return mode === "url" && escaped !== undefined ? encodeURIComponent(value) : value;
  });
}

/** Renders a JSON body template into a JSON value. */
export function renderJsonTemplate(template: unknown, resolve: TemplateResolver): unknown {
  if (typeof template === "string") {
    const whole = WHOLE.exec(template);
    if (whole) return lookup(resolve, (whole[1] ?? whole[2])!);
    return renderTemplate(template, resolve, "text");
  }
  if (Array.isArray(template)) return template.map((t) => renderJsonTemplate(t, resolve));
  if (typeof template === "object" && template !== null) {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderJsonTemplate(v, resolve)]));
  }
  return template;
}
