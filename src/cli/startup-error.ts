import type { Config } from "../config/config.js";
import { SETTINGS } from "../config/settings.js";
import { CodedError } from "../errors/coded-error.js";

/** The service could not start for a reason the operator fixes with a setting: the CLI prints one line, exit 2. */
export class StartupError extends CodedError {
  static override readonly code = "FC_STARTUP";
}

/** Which start-up step failed: building the server (TLS material is read here), its port, or the metrics port. */
export type StartupStep = "create" | "listen" | "metrics";

/** `--port / FLYTE_CONNECT_PORT`: how the operator changes a setting. */
function setting(key: string): string {
  const s = SETTINGS.find((x) => x.key === key);
  if (!s) return key;
  return s.flag ? `--${s.flag} / ${s.env}` : s.env;
}

/**
 * Turns a failure to start into one line that names the setting to change, or returns undefined when it is
 * not the operator's to fix (a bug keeps its stack trace).
 */
export function startupError(err: unknown, config: Config, step: StartupStep): StartupError | undefined {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  const code = typeof e?.code === "string" ? e.code : "";
  const reason = err instanceof Error ? err.message : String(err);
  if (step === "create" && config.tls && (code.startsWith("ERR_OSSL") || /PEM|routines|asn1|certificate|private key/i.test(reason))) {
    return new StartupError(
      `cannot serve TLS with the given key and certificate (${setting("tlsKeyFile")}, ${setting("tlsCertFile")}${config.tls.clientCa ? `, ${setting("tlsClientCaFile")}` : ""}): ${reason}; give PEM files of a matching key and certificate chain`,
      { cause: err },
    );
  }
  if (step === "listen" || step === "metrics") {
    const metrics = step === "metrics";
    const host = metrics ? config.metricsHost : config.host;
    const port = e.port ?? (metrics ? config.metricsPort : config.port);
    const what = metrics ? "the metrics port" : "the service port";
    const portSetting = setting(metrics ? "metricsPort" : "port");
    if (code === "EADDRINUSE") {
      const off = metrics ? `, or turn metrics off with ${setting("metricsEnabled")}` : "";
      return new StartupError(`${what} ${port} on ${host} is in use: stop what listens there, or choose another port with ${portSetting}${off}`, {
        cause: err,
      });
    }
    if (code === "EACCES") {
      return new StartupError(
        `${what} ${port} on ${host} is not allowed for this user (ports below 1024 need privileges): choose another with ${portSetting}`,
        { cause: err },
      );
    }
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN") {
      return new StartupError(`cannot listen on ${host}, which is not an address of this machine: change ${setting(metrics ? "metricsHost" : "host")}`, {
        cause: err,
      });
    }
  }
  return undefined;
}
