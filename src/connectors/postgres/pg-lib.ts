import type pg from "pg";

let loaded: typeof pg | undefined;

/**
 * Loads the `pg` driver. It is loaded on first use rather than at start-up: most deployments never run a
 * PostgreSQL task, and loading it costs start-up time and about 1.5 MiB of idle memory (docs/benchmarks.md).
 * Every connector entry point awaits this before it touches the database.
 */
export async function loadPg(): Promise<typeof pg> {
  loaded ??= (await import("pg")).default;
  return loaded;
}

/** The driver, once {@link loadPg} has resolved. */
export function pgLib(): typeof pg {
  if (!loaded) throw new Error("the pg driver is used before loadPg() resolved");
  return loaded;
}
