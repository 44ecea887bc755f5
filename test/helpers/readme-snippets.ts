/** The ```ts blocks of a Markdown text, trimmed, in order. */
export function readmeTypeScriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trim());
}
