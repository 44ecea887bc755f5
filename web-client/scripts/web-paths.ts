import { fileURLToPath } from "node:url";

/** The web-client folder and the repository root, from this file: scripts run from any working directory. */
export const WEB_CLIENT_DIR = fileURLToPath(new URL("..", import.meta.url));
export const ROOT_DIR = fileURLToPath(new URL("../..", import.meta.url));
/** Where `npm run build:web` writes; the dashboard plugin serves `dist/dashboard` from here. */
export const WEB_DIST_DIR = fileURLToPath(new URL("../dist", import.meta.url));
