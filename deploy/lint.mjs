// Lints the deployment files: node --import tsx deploy/lint.mjs [--dir <deploy dir>] [--json]
//
// No container engine or cluster runs on the machines this project is built on, so the Dockerfile and the
// manifests are checked with what npm provides, plus our own configuration validator:
// - the Dockerfile with dockerfile-utils (the linter behind VS Code's Docker support) and our policy
//   (multi-stage, pinned bases, numeric non-root user, exec-form entrypoint, both ports exposed);
// - every YAML file with the `yaml` parser (syntax, duplicate keys);
// - every Kubernetes object with kubernetes-models' JSON schemas (types, enums, required fields), and
//   type-checked by the TypeScript compiler against the same models' interfaces, which catches unknown or
//   misspelt fields the schemas let through;
// - the config.json in the ConfigMap with flyte-connect's own loadConfig;
// - cross-references: selectors and labels, ports and probes, the executor's endpoint, the grace period.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import dockerfileUtils from "dockerfile-utils";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Service, ServiceAccount } from "kubernetes-models/v1";
import ts from "typescript";
import { parseAllDocuments } from "yaml";
import { builtinConnectors } from "../src/connectors/builtins.js";
import { ConfigError } from "../src/config/config.js";
import { loadConfig } from "../src/config/load-config.js";
import { startNodeOptions } from "../scripts/start-node-options.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const DIR = resolve(args.includes("--dir") ? args[args.indexOf("--dir") + 1] : join(ROOT, "deploy"));

/** apiVersion/kind → the model class (runtime schema) and the interface the TypeScript check uses. */
const KINDS = {
  "apps/v1/Deployment": { model: Deployment, type: "IDeployment", from: "kubernetes-models/apps/v1/Deployment" },
  "v1/Service": { model: Service, type: "IService", from: "kubernetes-models/v1/Service" },
  "v1/ConfigMap": { model: ConfigMap, type: "IConfigMap", from: "kubernetes-models/v1/ConfigMap" },
  "v1/ServiceAccount": { model: ServiceAccount, type: "IServiceAccount", from: "kubernetes-models/v1/ServiceAccount" },
  "autoscaling/v2/HorizontalPodAutoscaler": { model: HorizontalPodAutoscaler, type: "IHorizontalPodAutoscaler", from: "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler" },
  "policy/v1/PodDisruptionBudget": { model: PodDisruptionBudget, type: "IPodDisruptionBudget", from: "kubernetes-models/policy/v1/PodDisruptionBudget" },
};

const problems = [];
const checks = [];
const problem = (where, message) => problems.push(`${where}: ${message}`);
const check = (name) => checks.push(name);

// ---- Dockerfile --------------------------------------------------------------------------------------
const dockerfilePath = join(DIR, "Dockerfile");
const dockerfile = readFileSync(dockerfilePath, "utf8");
for (const d of dockerfileUtils.validate(dockerfile)) problem("Dockerfile", `line ${d.range.start.line + 1}: ${d.message}`);
check("Dockerfile: dockerfile-utils validate");
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"))
  .map((l) => ({ op: l.split(/\s+/)[0].toUpperCase(), rest: l.slice(l.split(/\s+/)[0].length).trim() }));
const argDefaults = Object.fromEntries(instructions.filter((i) => i.op === "ARG" && i.rest.includes("=")).map((i) => i.rest.split("=", 2)));
const froms = instructions.filter((i) => i.op === "FROM").map((i) => i.rest.split(/\s+/)[0].replace(/^\$\{(\w+)\}$/, (_, v) => argDefaults[v] ?? v));
if (froms.length < 2) problem("Dockerfile", "must be multi-stage (a build stage and a runtime stage)");
for (const image of froms) {
  if (!/:[\w.-]+$/.test(image) || image.endsWith(":latest")) problem("Dockerfile", `base image ${image} must be pinned to a tag other than latest`);
}
const lastFrom = instructions.findLastIndex((i) => i.op === "FROM");
const runtime = instructions.slice(lastFrom);
const user = runtime.filter((i) => i.op === "USER").at(-1)?.rest;
if (!user || !/^\d+(:\d+)?$/.test(user) || user.startsWith("0")) problem("Dockerfile", `the runtime stage must end as a numeric non-root USER, got ${user ?? "none"}`);
const exposed = runtime.filter((i) => i.op === "EXPOSE").flatMap((i) => i.rest.split(/\s+/));
for (const port of ["8000", "9090"]) if (!exposed.includes(port)) problem("Dockerfile", `the runtime stage must EXPOSE ${port}`);
const entrypoint = runtime.find((i) => i.op === "ENTRYPOINT")?.rest;
if (!entrypoint?.startsWith("[")) problem("Dockerfile", "ENTRYPOINT must be in exec form, so that SIGTERM reaches node");
const entrypointArgs = entrypoint?.startsWith("[") ? JSON.parse(entrypoint) : [];
const entrypointOptions = entrypointArgs.slice(1, entrypointArgs.indexOf("dist/bin/flyte-connect.mjs"));
if (entrypointOptions.join(" ") !== startNodeOptions(ROOT).join(" "))
  problem("Dockerfile", `ENTRYPOINT runs node with [${entrypointOptions.join(" ")}], npm start with [${startNodeOptions(ROOT).join(" ")}]: they must match`);
if (!runtime.some((i) => i.op === "COPY" && i.rest.startsWith("--from="))) problem("Dockerfile", "the runtime stage must copy its files from the build stage");
if (runtime.some((i) => i.op === "RUN")) problem("Dockerfile", "the runtime stage must not RUN anything (a distroless image has no shell)");
check("Dockerfile: multi-stage, pinned bases, numeric non-root user, exec-form entrypoint with npm start's node options, ports 8000 and 9090");
const dockerUser = user && /^\d+(:\d+)?$/.test(user) ? Number(user.split(":")[0]) : undefined;

// ---- YAML --------------------------------------------------------------------------------------------
const yamlFiles = [];
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    if (e.isDirectory()) walk(join(d, e.name));
    else if (/\.ya?ml$/.test(e.name)) yamlFiles.push(join(d, e.name));
  }
};
walk(DIR);
/** Every parsed document: { file, index, value }. */
const docs = [];
for (const file of yamlFiles) {
  const rel = relative(DIR, file);
  parseAllDocuments(readFileSync(file, "utf8"), { uniqueKeys: true, strict: true, prettyErrors: true }).forEach((doc, index) => {
    for (const e of doc.errors) problem(rel, e.message);
    for (const w of doc.warnings) problem(rel, w.message);
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push({ file: rel, index, value });
  });
}
check(`YAML: ${yamlFiles.length} files parsed strictly, duplicate keys refused`);

// ---- Kubernetes objects ------------------------------------------------------------------------------
const objects = docs.filter((d) => typeof d.value.apiVersion === "string" && typeof d.value.kind === "string" && d.value.kind !== "Kustomization");
for (const o of objects) {
  const kind = KINDS[`${o.value.apiVersion}/${o.value.kind}`];
  if (!kind) {
    problem(o.file, `no schema for ${o.value.apiVersion} ${o.value.kind}`);
    continue;
  }
  try {
    new kind.model(o.value).validate();
  } catch (e) {
    problem(`${o.file} ${o.value.kind}/${o.value.metadata?.name}`, e.message);
  }
}
check(`Kubernetes: ${objects.length} objects validated against kubernetes-models' JSON schemas`);

// The same objects as typed object literals: excess property checks find fields the schemas let through.
// (The compiler reports one error per object: fix it, and the next shows.)
// Inside the repository, so that the compiler resolves kubernetes-models from node_modules.
mkdirSync(join(ROOT, ".tmp"), { recursive: true });
const scratch = mkdtempSync(join(ROOT, ".tmp", "deploy-lint-"));
const typed = objects.filter((o) => KINDS[`${o.value.apiVersion}/${o.value.kind}`]);
const source = [
  ...new Set(typed.map((o) => KINDS[`${o.value.apiVersion}/${o.value.kind}`]).map((k) => `import type { ${k.type} } from "${k.from}";`)),
  ...typed.map((o, i) => `// ${o.file}#${o.index}\nexport const doc${i}: ${KINDS[`${o.value.apiVersion}/${o.value.kind}`].type} = ${JSON.stringify(o.value, null, 2)};`),
].join("\n");
const sourceFile = join(scratch, "manifests.ts");
writeFileSync(sourceFile, source);
const program = ts.createProgram([sourceFile], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] });
for (const d of ts.getPreEmitDiagnostics(program)) {
  const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
  const header = source.split("\n").slice(0, where + 1).reverse().find((l) => l.startsWith("// ")) ?? "";
  problem(`${header.slice(3) || "manifests"} (type check)`, ts.flattenDiagnosticMessageText(d.messageText, " "));
}
check("Kubernetes: type-checked against kubernetes-models' interfaces (unknown fields refused)");

// ---- Cross-references --------------------------------------------------------------------------------
const byKind = (kind) => objects.filter((o) => o.value.kind === kind).map((o) => o.value);
const [deployment] = byKind("Deployment");
const services = byKind("Service");
const [configMap] = byKind("ConfigMap");
const [hpa] = byKind("HorizontalPodAutoscaler");
const [pdb] = byKind("PodDisruptionBudget");
const [account] = byKind("ServiceAccount");
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v) && Object.keys(selector ?? {}).length > 0;
if (!deployment || !configMap || !hpa || !pdb || !account || services.length === 0) {
  problem("k8s", "expected a Deployment, a ConfigMap, a Service, a HorizontalPodAutoscaler, a PodDisruptionBudget and a ServiceAccount");
} else {
  const pod = deployment.spec.template;
  const podLabels = pod.metadata.labels;
  const container = pod.spec.containers[0];
  const ports = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
  if (!matches(deployment.spec.selector.matchLabels, podLabels)) problem("deployment", "selector does not match the pod labels");
  for (const s of services) if (!matches(s.spec.selector, podLabels)) problem(`service ${s.metadata.name}`, "selector does not match the pod labels");
  if (!matches(pdb.spec.selector?.matchLabels, podLabels)) problem("pdb", "selector does not match the pod labels");
  if (hpa.spec.scaleTargetRef.kind !== "Deployment" || hpa.spec.scaleTargetRef.name !== deployment.metadata.name) problem("hpa", "scaleTargetRef must name the Deployment");
  if (hpa.spec.minReplicas < 2) problem("hpa", "keep at least 2 replicas, so that a drain or a node loss leaves one serving");
  if (!(pdb.spec.minAvailable >= 1 || pdb.spec.maxUnavailable >= 1)) problem("pdb", "must keep a replica available");
  if (pod.spec.serviceAccountName !== account.metadata.name) problem("deployment", "must run as the flyte-connect ServiceAccount");

  // Ports, probes and protocols.
  if (ports.grpc === undefined || ports.metrics === undefined) problem("deployment", "the container needs ports named grpc and metrics");
  const rpc = services.find((s) => s.spec.ports.some((p) => p.targetPort === "grpc"));
  const rpcPort = rpc?.spec.ports.find((p) => p.targetPort === "grpc");
  if (!rpc) problem("service", "no Service targets the grpc port");
  else {
    if (rpcPort.appProtocol !== "kubernetes.io/h2c") problem(`service ${rpc.metadata.name}`, "the grpc port must declare appProtocol kubernetes.io/h2c");
    if (rpc.spec.clusterIP !== "None") problem(`service ${rpc.metadata.name}`, "must be headless, so that the executor's round_robin sees every replica");
    if (rpc.spec.ports.some((p) => p.targetPort === "metrics")) problem(`service ${rpc.metadata.name}`, "must not expose the metrics port");
  }
  if (container.readinessProbe?.grpc?.port !== ports.grpc) problem("deployment", "the readiness probe must be the gRPC health check on the grpc port");
  if (container.startupProbe?.grpc?.port !== ports.grpc) problem("deployment", "the startup probe must be the gRPC health check on the grpc port");
  if (container.livenessProbe?.httpGet?.path !== "/healthz" || ![ports.metrics, "metrics"].includes(container.livenessProbe.httpGet.port)) problem("deployment", "the liveness probe must be GET /healthz on the metrics port");
  if (pod.metadata.annotations?.["prometheus.io/port"] !== String(ports.metrics)) problem("deployment", "prometheus.io/port must be the metrics port");

  // Security.
  const sc = pod.spec.securityContext ?? {};
  if (sc.runAsNonRoot !== true) problem("deployment", "runAsNonRoot must be true");
  if (dockerUser !== undefined && sc.runAsUser !== dockerUser) problem("deployment", `runAsUser (${sc.runAsUser}) must be the image's user (${dockerUser})`);
  const csc = container.securityContext ?? {};
  if (csc.allowPrivilegeEscalation !== false || csc.readOnlyRootFilesystem !== true || !csc.capabilities?.drop?.includes("ALL")) {
    problem("deployment", "the container must drop all capabilities, forbid privilege escalation and use a read-only root filesystem");
  }
  if (!container.resources?.requests?.cpu || !container.resources?.requests?.memory || !container.resources?.limits?.memory) problem("deployment", "set CPU and memory requests (the HPA needs them) and a memory limit");

  // The config file, through flyte-connect's own validator.
  const configText = configMap.data?.["config.json"];
  const volume = pod.spec.volumes?.find((v) => v.configMap?.name === configMap.metadata.name);
  const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
  const configArg = container.args?.[container.args.indexOf("--config") + 1];
  if (!configText || !volume || !mount || configArg !== `${mount.mountPath}/config.json`) problem("deployment", "must mount the ConfigMap's config.json and pass it with --config");
  if (configText) {
    let drainTimeoutMs = 20_000;
    try {
      drainTimeoutMs = JSON.parse(configText).drainTimeoutMs ?? drainTimeoutMs;
    } catch {
      // loadConfig below says what is wrong with it.
    }
    const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    if (pod.spec.terminationGracePeriodSeconds < preStop + drainTimeoutMs / 1000 + 5) {
      problem("deployment", `terminationGracePeriodSeconds must cover preStop (${preStop} s) + drainTimeoutMs (${drainTimeoutMs / 1000} s) + 5 s`);
    }
    const path = join(scratch, "config.json");
    writeFileSync(path, configText);
    try {
      const config = loadConfig({ env: {}, flags: { config: path } });
      if (config.port !== ports.grpc) problem("configmap", `port ${config.port} is not the container's grpc port ${ports.grpc}`);
      if (config.metricsPort !== ports.metrics) problem("configmap", `metricsPort ${config.metricsPort} is not the container's metrics port ${ports.metrics}`);
      check("ConfigMap: config.json accepted by flyte-connect's loadConfig");
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const p of e.problems) problem("configmap config.json", p);
    }
  }

  // Kustomization.
  const kustomization = docs.find((d) => d.value.kind === "Kustomization");
  if (kustomization) {
    const listed = new Set(kustomization.value.resources ?? []);
    const k8sDir = dirname(join(DIR, kustomization.file));
    for (const f of yamlFiles.filter((f) => dirname(f) === k8sDir && !f.endsWith("kustomization.yaml"))) {
      if (!listed.has(relative(k8sDir, f))) problem("kustomization", `does not list ${relative(k8sDir, f)}`);
    }
    const image = container.image.split(":")[0];
    if (!(kustomization.value.images ?? []).some((i) => i.name === image)) problem("kustomization", `has no images entry for ${image}`);
  }

  // The executor's configuration.
  const executor = docs.find((d) => d.value.configuration?.inline?.plugins?.["connector-service"]);
  if (!executor) problem("flyte", "no executor configuration (configuration.inline.plugins.connector-service)");
  else {
    const cs = executor.value.configuration.inline.plugins["connector-service"];
    const m = /^dns:\/\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)$/.exec(cs.defaultConnector?.endpoint ?? "");
    if (!m) problem(executor.file, "defaultConnector.endpoint must be dns:///<service>.<namespace>.svc.cluster.local:<port>");
    else {
      if (m[1] !== rpc?.metadata.name) problem(executor.file, `endpoint names Service ${m[1]}, the manifests have ${rpc?.metadata.name}`);
      if (Number(m[3]) !== rpcPort?.port) problem(executor.file, `endpoint port ${m[3]} is not the Service port ${rpcPort?.port}`);
    }
    if (cs.defaultConnector?.insecure !== true) problem(executor.file, "the service speaks h2c: insecure must be true (or serve TLS)");
    if (!/round_robin/.test(cs.defaultConnector?.defaultServiceConfig ?? "")) problem(executor.file, "use round_robin so that calls spread over the replicas");
    const builtin = new Set(builtinConnectors().map((c) => c.taskTypeName));
    for (const t of cs.supportedTaskTypes ?? []) {
      if (t !== t.toLowerCase()) problem(executor.file, `task type ${t} must be lowercase (the executor lowercases map keys)`);
      if (!builtin.has(t)) problem(executor.file, `task type ${t} is not a built-in connector's`);
    }
    check("Flyte executor configuration: endpoint, port, protocol and task types agree with the manifests");
  }
  check("Cross-references: selectors, ports, probes, security, grace period, kustomization");
}

rmSync(scratch, { recursive: true, force: true });
const report = { dir: relative(ROOT, DIR) || ".", files: ["Dockerfile", ...yamlFiles.map((f) => relative(DIR, f))], checks, problems };
if (args.includes("--json")) process.stdout.write(`${JSON.stringify(report)}\n`);
else {
  for (const c of checks) process.stdout.write(`checked  ${c}\n`);
  for (const p of problems) process.stdout.write(`FAIL     ${p}\n`);
  process.stdout.write(`${problems.length === 0 ? "deploy/ is valid" : `${problems.length} problems`}\n`);
}
process.exitCode = problems.length === 0 ? 0 : 1;
