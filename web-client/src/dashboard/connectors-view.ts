import type { ConnectorClients } from "../index.js";
import { element } from "./dom.js";
import { errorText } from "./error-text.js";

/** Elements the connector list fills. */
export interface ConnectorsViewElements {
  readonly table: HTMLTableElement;
  /** Task type suggestions for the task form. */
  readonly taskTypes: HTMLDataListElement;
  readonly error: HTMLElement;
}

/** Lists the connectors (ListConnectors) and their task categories. */
export async function showConnectors(clients: ConnectorClients, els: ConnectorsViewElements): Promise<void> {
  const body = els.table.tBodies[0]!;
  try {
    const connectors = await clients.listConnectors({ timeoutMs: 8000 });
    els.error.textContent = "";
    const rows = connectors.map((c) => {
      const row = element("tr");
      row.append(element("th", c.name), element("td", c.supportedTaskCategories.map((t) => `${t.name} / ${t.version}`).join(", ")));
      row.cells[0]!.setAttribute("scope", "row");
      return row;
    });
    body.replaceChildren(...(rows.length > 0 ? rows : [emptyRow("No connectors are registered.")]));
    const types = new Set(connectors.flatMap((c) => c.supportedTaskCategories.map((t) => t.name)));
    els.taskTypes.replaceChildren(...[...types].map((name) => Object.assign(element("option"), { value: name })));
  } catch (e) {
    els.error.textContent = `Could not list connectors: ${errorText(e)}`;
    body.replaceChildren(emptyRow("—"));
  }
}

function emptyRow(text: string): HTMLTableRowElement {
  const row = element("tr");
  const cell = element("td", text);
  cell.colSpan = 2;
  row.append(cell);
  return row;
}
