import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * The Dockerfile and the manifests, linted with what npm and Debian provide (no container engine or cluster
 * runs here): deploy/lint.mjs (dockerfile-utils, the yaml parser, kubernetes-models' schemas and
 * interfaces, flyte-connect's own config validator, cross-references), and Debian's yamllint when installed.
 * Each linter is also shown a broken copy, to prove it can fail.
 */
const ROOT = resolve(__dirname, "../..");
const DEPLOY = join(ROOT, "deploy");

interface LintReport {
  readonly files: readonly string[];
  readonly checks: readonly string[];
  readonly problems: readonly string[];
}

function lint(dir: string): LintReport {
  const run = spawnSync(process.execPath, ["--import", "tsx", "deploy/lint.mjs", "--dir", dir, "--json"], { cwd: ROOT, encoding: "utf8" });
  if (run.stdout.trim() === "") throw new Error(`deploy/lint.mjs printed nothing:\n${run.stderr}`);
  return JSON.parse(run.stdout) as LintReport;
}

/** A copy of deploy/ with some files edited. */
function brokenCopy(edits: Record<string, (text: string) => string>): string {
  const dir = mkdtempSync(join(tmpdir(), "fc-deploy-"));
  cpSync(DEPLOY, dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const path = join(dir, file);
    const before = readFileSync(path, "utf8");
    const after = edit(before);
    if (after === before) throw new Error(`the edit of ${file} changed nothing`);
    writeFileSync(path, after);
  }
  return dir;
}

test("deploy/ passes every check", () => {
  const report = lint(DEPLOY);
  console.info(`deploy lint: ${report.files.length} files, checks:\n  ${report.checks.join("\n  ")}`);
  expect(report.problems).toEqual([]);
  expect(report.files).toEqual(
    expect.arrayContaining([
      "Dockerfile",
      "k8s/deployment.yaml",
      "k8s/service.yaml",
      "k8s/hpa.yaml",
      "k8s/pdb.yaml",
      "k8s/configmap.yaml",
      "flyte/executor-values.yaml",
    ]),
  );
  expect(report.checks).toHaveLength(8);
}, 60_000);

test("the linter finds what is wrong in a broken copy", () => {
  const dir = brokenCopy({
    Dockerfile: (t) => t.replace("USER 65532:65532", "USER root").replace("node:20.20.2-bookworm-slim", "node:latest").replace('"--v8-pool-size=1", ', ""),
    "k8s/deployment.yaml": (t) =>
      t
        .replace("imagePullPolicy: IfNotPresent", "imagePullPolicy: IfNotPresent\n          imagee: typo")
        .replace("terminationGracePeriodSeconds: 35", "terminationGracePeriodSeconds: 10"),
    "k8s/service.yaml": (t) => t.replace("appProtocol: kubernetes.io/h2c", "appProtocol: http"),
    "k8s/pdb.yaml": (t) => t.replace("minAvailable: 1", "minAvailable: 1\n  minAvailabel: 2"),
    "k8s/hpa.yaml": (t) => t.replace("averageUtilization: 70", 'averageUtilization: "70%"'),
    "k8s/configmap.yaml": (t) => t.replace('"maxConcurrentCalls": 2048', '"maxConcurrentCalls": -5'),
    "flyte/executor-values.yaml": (t) =>
      t.replace("flyte-connect.flyte.svc", "flyteconnector.flyte.svc").replace("- http_job", "- http_job\n          - BigQuery"),
  });
  const { problems } = lint(dir);
  const expected = [
    /Dockerfile: base image node:latest must be pinned/,
    /Dockerfile: the runtime stage must end as a numeric non-root USER, got root/,
    /Dockerfile: ENTRYPOINT runs node with \[\], npm start with \[--v8-pool-size=1\]: they must match/,
    /deployment\.yaml#0 \(type check\): .*'"imagee"' does not exist in type 'IContainer'/,
    /terminationGracePeriodSeconds must cover preStop \(5 s\) \+ drainTimeoutMs \(20 s\)/,
    /the grpc port must declare appProtocol kubernetes\.io\/h2c/,
    /pdb\.yaml#0 \(type check\): .*'"minAvailabel"' does not exist/,
    /hpa\.yaml HorizontalPodAutoscaler\/flyte-connect: .*averageUtilization must be integer/,
    /configmap config\.json: maxConcurrentCalls must be an integer from 0 to 1000000, got -5/,
    /executor-values\.yaml: endpoint names Service flyteconnector/,
    /task type BigQuery must be lowercase/,
  ];
  for (const e of expected) expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(e)]));
}, 60_000);

const yamllint = spawnSync("yamllint", ["--version"]).status === 0;
(yamllint ? test : test.skip)("Debian's yamllint (strict) passes deploy/ and fails a broken copy", () => {
  const config = join(DEPLOY, ".yamllint.yaml");
  expect(execFileSync("yamllint", ["-s", "-f", "parsable", "-c", config, DEPLOY], { encoding: "utf8" })).toBe("");
  const dir = brokenCopy({ "k8s/service.yaml": (t) => t.replace("  clusterIP: None", "  clusterIP: None\n  clusterIP: 10.0.0.1") });
  const broken = spawnSync("yamllint", ["-s", "-f", "parsable", "-c", config, dir], { encoding: "utf8" });
  expect(broken.status).not.toBe(0);
  expect(broken.stdout).toMatch(/duplication of key "clusterIP"/);
});
