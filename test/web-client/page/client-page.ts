// A page on another origin than the service, using the web-client as a dashboard would: bundled by esbuild
// in client-browser.test.ts and driven there through window.runClientScenario.
import { Code, ConnectError, createConnectorClients, phaseName, type Protocol } from "../../../web-client/src/index.js";
import { createTaskRequest, FLOAT, floatLiteral } from "../../support/tasks.js";

/** What one scenario saw; also shown on the page. */
export interface ClientScenarioResult {
  readonly connectors: string[];
  readonly phases: string[];
  readonly logLines: string[];
  /** The error the user was shown for a task type the service does not know. */
  readonly shownError?: { readonly code: string; readonly message: string };
  /** The step that failed unexpectedly (such as a call refused by CORS), and why. */
  readonly failure?: { readonly step: string; readonly code: string; readonly message: string };
}

function describeError(e: unknown): { code: string; message: string } {
  return e instanceof ConnectError ? { code: Code[e.code] ?? String(e.code), message: e.rawMessage } : { code: "not a ConnectError", message: String(e) };
}

async function runClientScenario(apiUrl: string, protocol: Protocol): Promise<ClientScenarioResult> {
  const output = document.getElementById("result")!;
  const alert = document.getElementById("error")!;
  document.getElementById("title")!.textContent = `web-client over ${protocol} → ${apiUrl}`;
  // Authorization is not a CORS-safelisted header: the preflight must allow it.
  const clients = createConnectorClients({ baseUrl: apiUrl, protocol, headers: { Authorization: "Bearer page-token" } });
  const result: { -readonly [K in keyof ClientScenarioResult]: ClientScenarioResult[K] } = { connectors: [], phases: [], logLines: [] };
  let step = "ListConnectors";
  try {
    result.connectors = (await clients.listConnectors()).map((c) => c.name);
    step = "CreateTask";
    const { resourceMeta } = await clients.tasks.createTask(
      createTaskRequest({ type: "sleep", inputs: { seconds: { type: FLOAT, literal: floatLiteral(1.1) } } }),
    );
    step = "GetTask (followTask)";
    for await (const resource of clients.followTask({ name: "sleep" }, resourceMeta, { intervalMs: 250 })) result.phases.push(phaseName(resource.phase));
    step = "GetTaskLogs (server-streaming)";
    for await (const line of clients.streamLogs({ name: "sleep" }, resourceMeta, { linesPerPage: 1 })) result.logLines.push(line.message);
    step = "CreateTask of an unknown task type";
    try {
      await clients.tasks.createTask(createTaskRequest({ type: "no_such_type" }));
    } catch (e) {
      result.shownError = describeError(e);
      alert.textContent = `${result.shownError.code}: ${result.shownError.message}`;
    }
  } catch (e) {
    result.failure = { step, ...describeError(e) };
    alert.textContent = `${step} failed: ${result.failure.code}: ${result.failure.message}`;
  }
  output.textContent = JSON.stringify(result, null, 2);
  return result;
}

declare global {
  interface Window {
    runClientScenario: typeof runClientScenario;
  }
}
window.runClientScenario = runClientScenario;
