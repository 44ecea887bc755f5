import type { RecentTask } from "../../../src/service/ops/recent-tasks.js";
import { element } from "./dom.js";

/** The JSON route the dashboard plugin serves, relative to the page. */
const RECENT_TASKS_URL = "dashboard/api/recent-tasks";

/**
 * Lists the tasks this service created (newest first) as buttons; picking one calls `onPick`. The list comes
 * from the service's memory (src/service/recent-tasks.ts): it is per process and empty after a restart.
 * `headers` carries the bearer token, which the route asks for when the service has tokens configured.
 */
export async function showRecentTasks(list: HTMLUListElement, headers: Readonly<Record<string, string>>, onPick: (task: RecentTask) => void): Promise<void> {
  let tasks: readonly RecentTask[];
  try {
    const response = await fetch(RECENT_TASKS_URL, { headers: { ...headers, accept: "application/json" } });
    if (response.status === 401) throw new Error("the service asks for a bearer token (enter it above)");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    tasks = ((await response.json()) as { tasks: readonly RecentTask[] }).tasks;
  } catch (e) {
    list.replaceChildren(element("li", `Could not load recent tasks: ${e instanceof Error ? e.message : String(e)}`));
    return;
  }
  if (tasks.length === 0) {
    list.replaceChildren(element("li", "No task created yet by this service process."));
    return;
  }
  list.replaceChildren(
    ...tasks.map((task) => {
      const item = element("li");
      const run = [task.executionName, task.nodeId].filter((s) => s !== "").join(" / ") || task.taskName || "task";
      const button = element("button", `${task.taskCategory.name} / ${task.taskCategory.version} · ${run} · ${new Date(task.createdAt).toLocaleTimeString()}`);
      button.type = "button";
      button.addEventListener("click", () => onPick(task));
      item.append(button);
      return item;
    }),
  );
}
