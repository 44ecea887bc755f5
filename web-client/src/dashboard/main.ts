// The dashboard the service serves at "/": connectors, health, recent tasks and a task view, in plain DOM.
// It is also the web-client's showcase: every call goes through createConnectorClients.
import { createConnectorClients, PROTOCOLS, resourceMetaFromText, type ConnectorClients, type Protocol, type TaskCategoryRef } from "../index.js";
import { showConnectors } from "./connectors-view.js";
import { byId } from "./dom.js";
import { showHealth } from "./health-badge.js";
import { showRecentTasks } from "./recent-tasks-view.js";
import { createTaskView } from "./task-view.js";

/** Health and recent tasks are re-read this often; connectors only at load and on a protocol change. */
const REFRESH_MS = 5000;

const protocolSelect = byId("protocol", HTMLSelectElement);
const tokenInput = byId("token", HTMLInputElement);
const form = byId("task-form", HTMLFormElement);
const typeInput = byId("task-type", HTMLInputElement);
const versionInput = byId("task-version", HTMLInputElement);
const metaInput = byId("task-meta", HTMLTextAreaElement);
const taskError = byId("task-error", HTMLDivElement);
const healthBadge = byId("health", HTMLParagraphElement);
const recentList = byId("recent", HTMLUListElement);

// The API is on the page's own origin, at the same path prefix as the page.
const baseUrl = new URL(".", location.href).href;

const requested = new URLSearchParams(location.search).get("protocol");
if (requested !== null && (PROTOCOLS as readonly string[]).includes(requested)) protocolSelect.value = requested;

/** Read at each call, and kept in memory only: a token typed here is never stored. */
function authHeaders(): Record<string, string> {
  const token = tokenInput.value.trim();
  return token === "" ? {} : { Authorization: `Bearer ${token}` };
}

let clients = makeClients();
function makeClients(): ConnectorClients {
  return createConnectorClients({ baseUrl, protocol: protocolSelect.value as Protocol, headers: authHeaders });
}

const taskView = createTaskView(
  {
    section: byId("task", HTMLElement),
    phase: byId("task-phase", HTMLSpanElement),
    message: byId("task-message", HTMLElement),
    links: byId("task-links", HTMLUListElement),
    metaJson: byId("task-meta-json", HTMLPreElement),
    logs: byId("task-logs", HTMLOListElement),
    logsNote: byId("task-logs-note", HTMLParagraphElement),
    error: taskError,
    stop: byId("task-stop", HTMLButtonElement),
  },
  () => clients,
);

const connectorEls = {
  table: byId("connectors", HTMLTableElement),
  taskTypes: byId("task-types", HTMLDataListElement),
  error: byId("connectors-error", HTMLDivElement),
};
const refreshAll = () => Promise.all([showHealth(clients, healthBadge), showConnectors(clients, connectorEls), refreshRecent()]);
const refreshRecent = () =>
  showRecentTasks(recentList, authHeaders(), (task) => {
    typeInput.value = task.taskCategory.name;
    versionInput.value = String(task.taskCategory.version);
    metaInput.value = metaText(task.resourceMetaBase64);
    void follow({ name: task.taskCategory.name, version: task.taskCategory.version }, metaInput.value);
    typeInput.scrollIntoView({ block: "start" });
  });

protocolSelect.addEventListener("change", () => {
  clients = makeClients();
  void refreshAll();
});
tokenInput.addEventListener("change", () => void refreshAll());
byId("settings", HTMLFormElement).addEventListener("submit", (e) => {
  e.preventDefault();
  void refreshAll();
});

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const version = Number(versionInput.value);
  void follow({ name: typeInput.value.trim(), version: Number.isInteger(version) ? version : 0 }, metaInput.value);
});

/** Follows a task and records it in the address, so that the view can be reloaded or shared. */
function follow(category: TaskCategoryRef, metaText: string): Promise<void> {
  if (category.name === "") {
    taskError.textContent = "Enter a task type.";
    return Promise.resolve();
  }
  const hash = new URLSearchParams({ type: category.name, version: String(category.version ?? 0), meta: metaText.trim() });
  history.replaceState(null, "", `#${hash}`);
  let resourceMeta: Uint8Array;
  try {
    resourceMeta = resourceMetaFromText(metaText);
  } catch (e) {
    // The form's own mistake: say which forms the field takes instead of calling the service.
    taskError.textContent = e instanceof Error ? e.message : String(e);
    return Promise.resolve();
  }
  return taskView.follow(category, resourceMeta);
}

/** Metadata as the form shows it: the JSON text itself when it is UTF-8 text, else `base64:…`. */
function metaText(base64: string): string {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return `base64:${base64}`;
  }
}

void refreshAll();
setInterval(() => void Promise.all([showHealth(clients, healthBadge), refreshRecent()]), REFRESH_MS);

// A link such as /#type=sleep&version=0&meta={...} opens the task view on that task.
const fromHash = new URLSearchParams(location.hash.slice(1));
const hashType = fromHash.get("type");
if (hashType) {
  typeInput.value = hashType;
  versionInput.value = fromHash.get("version") ?? "0";
  metaInput.value = fromHash.get("meta") ?? "";
  form.requestSubmit();
}
