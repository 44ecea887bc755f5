import {
  Code,
  ConnectError,
  isTerminalPhase,
  phaseName,
  resourceMetaAsJson,
  TaskExecution_Phase,
  type ConnectorClients,
  type LogLine,
  type Resource,
  type TaskCategoryRef,
} from "../index.js";
import { element } from "./dom.js";
import { errorText } from "./error-text.js";

/** Elements the task view fills. */
export interface TaskViewElements {
  /** Carries `data-state` (following, done, stopped, error) and `aria-busy` while following. */
  readonly section: HTMLElement;
  readonly phase: HTMLElement;
  readonly message: HTMLElement;
  readonly links: HTMLUListElement;
  readonly metaJson: HTMLElement;
  readonly logs: HTMLOListElement;
  readonly logsNote: HTMLElement;
  readonly error: HTMLElement;
  readonly stop: HTMLButtonElement;
}

/** Follows one task at a time; following another, or Stop, cancels the one before. */
export interface TaskView {
  follow(category: TaskCategoryRef, resourceMeta: Uint8Array): Promise<void>;
  stop(): void;
}

/** Creates the task view; `clients` is read at each follow, so a protocol change applies to the next one. */
export function createTaskView(els: TaskViewElements, clients: () => ConnectorClients, intervalMs = 1000): TaskView {
  let current: AbortController | undefined;
  els.stop.addEventListener("click", () => current?.abort());

  const setState = (state: "following" | "done" | "stopped" | "error") => {
    els.section.dataset["state"] = state;
    els.section.setAttribute("aria-busy", String(state === "following"));
  };

  return {
    async follow(category, resourceMeta) {
      current?.abort();
      const controller = new AbortController();
      current = controller;
      const { signal } = controller;
      const c = clients();
      reset(els);
      const view = resourceMetaAsJson(resourceMeta);
      els.metaJson.textContent = view.kind === "json" ? view.text : `base64:${view.base64}`;
      els.stop.disabled = false;
      setState("following");

      // Logs are append-only in practice, and tokens are the connector's own: each refresh reads from the
      // first page again and appends only the lines past those already shown.
      let shown = 0;
      let logsAvailable = true;
      const refreshLogs = async () => {
        if (!logsAvailable) return;
        let index = 0;
        try {
          for await (const line of c.streamLogs(category, resourceMeta, { signal })) {
            if (index++ < shown) continue;
            els.logs.append(logItem(line));
            shown++;
          }
          els.logsNote.textContent = shown === 0 ? "No log lines yet." : "";
        } catch (e) {
          if (signal.aborted) throw e;
          logsAvailable = false;
          els.logsNote.textContent =
            e instanceof ConnectError && e.code === Code.Unimplemented ? "This connector does not provide logs." : `Could not read the logs: ${errorText(e)}`;
        }
      };

      try {
        for await (const resource of c.followTask(category, resourceMeta, { intervalMs, signal })) {
          showResource(els, resource);
          await refreshLogs();
        }
        setState("done");
      } catch (e) {
        if (signal.aborted) {
          // Replaced by another task, or stopped by the user: not an error to show.
          if (current === controller) setState("stopped");
          return;
        }
        els.error.textContent = errorText(e);
        setState("error");
      } finally {
        if (current === controller) {
          els.stop.disabled = true;
          current = undefined;
        }
      }
    },
    stop() {
      current?.abort();
    },
  };
}

function reset(els: TaskViewElements): void {
  els.error.textContent = "";
  els.phase.textContent = "…";
  els.phase.className = "phase";
  els.message.textContent = "—";
  els.links.replaceChildren(element("li", "—"));
  els.logs.replaceChildren();
  els.logsNote.textContent = "";
}

function showResource(els: TaskViewElements, resource: Resource): void {
  const terminal = isTerminalPhase(resource.phase);
  els.phase.textContent = phaseName(resource.phase) + (terminal ? " (final)" : "");
  els.phase.className = `phase ${phaseClass(resource.phase)}`;
  els.message.textContent = resource.message || "—";
  // Flyte hides some links once the task is over (e.g. a live console that no longer exists).
  const links = resource.logLinks.filter((l) => !(terminal && l.HideOnceFinished));
  els.links.replaceChildren(...(links.length > 0 ? links.map((l) => linkItem(l.name, l.uri, l.ready)) : [element("li", "—")]));
}

function phaseClass(phase: TaskExecution_Phase): string {
  if (phase === TaskExecution_Phase.SUCCEEDED) return "ok";
  if (isTerminalPhase(phase)) return "bad";
  return "running";
}

function linkItem(name: string, uri: string, ready: boolean): HTMLLIElement {
  const item = element("li");
  // Only web links become anchors: a connector could otherwise put a javascript: URI on the page.
  if (/^https?:\/\//i.test(uri)) {
    const a = element("a", name || uri);
    a.href = uri;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    item.append(a);
  } else {
    item.append(element("span", `${name}: ${uri}`));
  }
  if (!ready) item.append(element("span", " (not ready yet)", "hint"));
  return item;
}

function logItem(line: LogLine): HTMLLIElement {
  const item = element("li");
  if (line.timestamp) {
    const date = new Date(Number(line.timestamp.seconds) * 1000 + Math.floor(line.timestamp.nanos / 1e6));
    const time = element("time", date.toLocaleTimeString());
    time.dateTime = date.toISOString();
    item.append(time);
  }
  item.append(line.message);
  return item;
}
