// Helpers for testing connectors against the real service: flyte-connect/testing.
export { startService } from "./testing/start-service.js";
export type { RunningService, StartServiceOptions } from "./testing/start-service.js";
