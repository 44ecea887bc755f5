/** The element with this id, checked to be of the expected kind: a missing element fails loudly at startup. */
export function byId<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`dashboard page has no ${kind.name} #${id}`);
  return el;
}

/** Creates an element with text content; text is never parsed as HTML. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (text !== undefined) el.textContent = text;
  if (className !== undefined) el.className = className;
  return el;
}
