import type { ConnectorClients } from "../index.js";
import { errorText } from "./error-text.js";

/** Shows the service's health (grpc.health.v1 Check of "") in the badge, with a word as well as a colour. */
export async function showHealth(clients: ConnectorClients, badge: HTMLElement): Promise<void> {
  try {
    const status = await clients.servingStatus("", { timeoutMs: 4000 });
    badge.textContent = `Service: ${status}`;
    badge.className = `badge ${status === "SERVING" ? "ok" : "bad"}`;
  } catch (e) {
    badge.textContent = `Service: unreachable (${errorText(e)})`;
    badge.className = "badge bad";
  }
}
