import { readFile } from "node:fs/promises";

/**
 * The one place the warehouse connectors read the service's environment: the variables each vendor's own
 * tools read (`BIGQUERY_EMULATOR_HOST`, `DATABRICKS_HOST`, `SNOWFLAKE_PRIVATE_KEY_PATH`, …), which operators
 * already know. The service's own settings are read in src/config/ only.
 */

/** A vendor variable; `undefined` when unset or empty. */
export function vendorSetting(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/**
 * A credential from the service's own environment, in the form the vendors' own tools read: the value in one
 * variable (`DATABRICKS_TOKEN`), or a path to a mounted file in another (`DATABRICKS_TOKEN_FILE`), which is
 * how Kubernetes secrets are usually mounted. The variable wins; a file's trailing newline is dropped.
 * `undefined` when neither is set. Read at each call, so that a rotated file is picked up.
 */
export async function environmentCredential(
  names: { readonly value: string; readonly file?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const value = vendorSetting(names.value, env);
  if (value !== undefined) return value;
  const path = names.file === undefined ? undefined : vendorSetting(names.file, env);
  if (path === undefined) return undefined;
  try {
    return (await readFile(path, "utf8")).replace(/\r?\n$/, "");
  } catch (e) {
    // The path is configuration, not a secret: naming it tells the operator what to fix.
    throw new Error(`${names.file} points at ${path}, which cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
