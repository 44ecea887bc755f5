import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";

/** Debian's chromium package; `web-client/scripts/ensure-chromium.sh` installs it. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * `describe` for suites that need Chromium. Without it they are skipped with a message on a developer's
 * machine, and fail in CI, where a missing browser is a broken setup rather than a choice.
 */
export function describeWithChromium(name: string, body: () => void): void {
  if (existsSync(CHROMIUM_PATH) || process.env["CI"]) {
    describe(name, body);
    return;
  }
  describe(name, () => {
    test.skip(`skipped: ${CHROMIUM_PATH} is missing; install it with web-client/scripts/ensure-chromium.sh (apt-get install -y chromium)`, () => {});
  });
}

/** Launches headless Chromium; `ignoreCertificateErrors` for the self-signed certificates of TLS tests. */
export async function launchChromium(options: { ignoreCertificateErrors?: boolean } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: run web-client/scripts/ensure-chromium.sh`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: options.ignoreCertificateErrors ? [...ARGS, "--ignore-certificate-errors"] : ARGS });
}

/** Where screenshots go: test-artifacts/web-client/<name> (gitignored), kept for people to look at. */
export function artifactPath(name: string): string {
  const dir = path.resolve(__dirname, "../../../test-artifacts/web-client");
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
