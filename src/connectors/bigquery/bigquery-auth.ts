import { createHash } from "node:crypto";
import type { GoogleAuth } from "google-auth-library";
import { ConnectorError } from "../errors.js";

type GoogleAuthLib = Pick<typeof import("google-auth-library"), "GoogleAuth">;

let lib: Promise<GoogleAuthLib> | undefined;

/**
 * google-auth-library is loaded on a BigQuery task's first call, not at start-up: most deployments never run
 * one, and it would cost every replica start-up time and idle memory (docs/decisions.md). It is CommonJS:
 * Node's loader gives its exports by name, the CLI bundle's loader as `default`; both are accepted.
 */
function loadGoogleAuth(): Promise<GoogleAuthLib> {
  lib ??= import("google-auth-library").then((m) => {
    const named = m as Partial<GoogleAuthLib> & { default?: Partial<GoogleAuthLib> };
    const GoogleAuth = named.GoogleAuth ?? named.default?.GoogleAuth;
    if (!GoogleAuth) throw new Error("google-auth-library has no GoogleAuth export");
    return { GoogleAuth };
  });
  return lib;
}

/**
 * The audience of a self-signed service-account JWT: Google's APIs accept a JWT signed with the key itself,
 * addressed to the service, so no token endpoint is called (what Google's client libraries do by default).
 */
const BIGQUERY_AUDIENCE = "https://bigquery.googleapis.com/";

/**
 * Bearer headers for BigQuery. With a service-account JSON key (the task's `google_application_credentials`
 * secret, as the Python connector takes it) the key signs the request's token; without one, Application
 * Default Credentials: `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's user credentials, workload identity
 * federation, or the metadata server (GKE workload identity, GCE). Clients are cached — one for ADC, one
 * per key, by the key's hash — so tokens are reused until google-auth-library refreshes them.
 */
export class BigQueryCredentials {
  private adc: Promise<GoogleAuth> | undefined;
  private readonly byKey = new Map<string, Promise<GoogleAuth>>();

  async authorization(serviceAccountJson: string | undefined): Promise<string> {
    const auth = await (serviceAccountJson === undefined ? this.defaultAuth() : this.keyAuth(serviceAccountJson));
    let headers: Headers;
    try {
      const client = await auth.getClient();
      headers = await client.getRequestHeaders(BIGQUERY_AUDIENCE);
    } catch (e) {
      // google-auth-library's messages name files and endpoints, never the key or token.
      const how =
        serviceAccountJson === undefined ? "Application Default Credentials" : "the service-account key in the task's google_application_credentials secret";
      throw ConnectorError.retryable(`could not get Google credentials from ${how}: ${(e as Error).message}`, { cause: e });
    }
    const authorization = headers.get("authorization");
    if (!authorization) throw ConnectorError.permanent("Google credentials gave no authorization header for BigQuery");
    return authorization;
  }

  private defaultAuth(): Promise<GoogleAuth> {
    this.adc ??= loadGoogleAuth().then((g) => new g.GoogleAuth());
    return this.adc;
  }

  private keyAuth(json: string): Promise<GoogleAuth> {
    let credentials: Record<string, unknown>;
    try {
      credentials = JSON.parse(json) as Record<string, unknown>;
    } catch {
      // Never echo the text: it is a private key.
      throw ConnectorError.permanent("the google_application_credentials secret is not a service-account JSON key (it is not JSON)");
    }
    if (typeof credentials !== "object" || credentials === null || typeof credentials["type"] !== "string") {
      throw ConnectorError.permanent('the google_application_credentials secret is not a Google credentials JSON file (no "type")');
    }
    const id = createHash("sha256").update(json).digest("hex");
    let auth = this.byKey.get(id);
    if (!auth) {
      auth = loadGoogleAuth().then((g) => new g.GoogleAuth({ credentials }));
      // A bounded cache: a handful of service accounts is the norm; drop the oldest beyond 64.
      if (this.byKey.size >= 64) this.byKey.delete(this.byKey.keys().next().value!);
      this.byKey.set(id, auth);
    }
    return auth;
  }
}
