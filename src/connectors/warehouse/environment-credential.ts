import { readFile } from "node:fs/promises";

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
  const value = env[names.value];
  if (value !== undefined && value !== "") return value;
  const path = names.file === undefined ? undefined : env[names.file];
  if (path === undefined || path === "") return undefined;
  try {
    return (await readFile(path, "utf8")).replace(/\r?\n$/, "");
  } catch (e) {
    // The path is configuration, not a secret: naming it tells the operator what to fix.
    throw new Error(`${names.file} points at ${path}, which cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
