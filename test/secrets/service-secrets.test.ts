import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secretEnvironment } from "../../src/config/secret-env.js";
import { secretLookup } from "../../src/secrets/secret-lookup.js";
import { createServiceSecrets, secretEnvName } from "../../src/secrets/service-secrets.js";

/** A directory laid out as kubelet mounts a Secret: `..data` → a timestamped dir, and one symlink per key. */
function kubernetesSecretDir(values: Record<string, string>): { dir: string; rotate(next: Record<string, string>): void } {
  const dir = mkdtempSync(join(tmpdir(), "fc-secrets-"));
  let n = 0;
  const write = (v: Record<string, string>) => {
    const version = `..2026_12_01_00_00_0${n++}`;
    mkdirSync(join(dir, version));
    for (const [k, value] of Object.entries(v)) writeFileSync(join(dir, version, k), value);
    symlinkSync(version, join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    for (const k of Object.keys(v)) {
      try {
        symlinkSync(join("..data", k), join(dir, k));
      } catch {
        // already linked through ..data
      }
    }
  };
  write(values);
  return { dir, rotate: write };
}

test("environment names: the prefix, then the name in capitals with anything else than A-Z0-9 as _", () => {
  expect(secretEnvName("FLYTE_CONNECT_SECRET_", "password")).toBe("FLYTE_CONNECT_SECRET_PASSWORD");
  expect(secretEnvName("FLYTE_CONNECT_SECRET_", "db-password")).toBe("FLYTE_CONNECT_SECRET_DB_PASSWORD");
  expect(secretEnvName("FLYTE_CONNECT_SECRET_", "api.token")).toBe("FLYTE_CONNECT_SECRET_API_TOKEN");
  expect(secretEnvironment("FLYTE_CONNECT_SECRET_", { FLYTE_CONNECT_SECRET_A: "x", FLYTE_CONNECT_PORT: "1", OTHER: "y", FLYTE_CONNECT_SECRET_: "z" })).toEqual({
    FLYTE_CONNECT_SECRET_A: "x",
  });
  expect(secretEnvironment("", { FLYTE_CONNECT_SECRET_A: "x" })).toEqual({});
});

test("order: the task's connection, then the mounted files, then the environment", () => {
  const { dir } = kubernetesSecretDir({ password: "from-file\n", token: "file-token" });
  const service = createServiceSecrets({ dir, envPrefix: "P_", env: { P_PASSWORD: "from-env", P_ONLY_ENV: "env-only" }, cacheTtlMs: 1000 });
  const lookup = secretLookup({ password: "from-connection" }, service.lookup);
  expect(lookup("password")).toBe("from-connection");
  expect(secretLookup({}, service.lookup)("password")).toBe("from-file");
  expect(lookup("only-env")).toBe("env-only");
  expect(lookup("missing")).toBeUndefined();
  // Names that are not Secret keys never reach the file system: no path tricks, no ..data.
  expect(lookup("../etc/passwd")).toBeUndefined();
  expect(lookup("..data")).toBeUndefined();
  expect(Object.values(service.values()).sort()).toEqual(["env-only", "file-token", "from-env", "from-file"]);
});

test("a rotated Secret is picked up once the cache time has passed", () => {
  const { dir, rotate } = kubernetesSecretDir({ password: "first" });
  let now = 0;
  const service = createServiceSecrets({ dir, envPrefix: "", env: {}, cacheTtlMs: 1000, now: () => now });
  expect(service.lookup("password")).toBe("first");
  rotate({ password: "second" });
  now = 500;
  expect(service.lookup("password")).toBe("first");
  now = 1500;
  expect(service.lookup("password")).toBe("second");
  expect(Object.values(service.values())).toEqual(["second"]);
});
