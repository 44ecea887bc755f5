import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestPki {
  /** The CA that signed the server and client certificates. */
  readonly caCert: string;
  readonly serverKey: string;
  /** Valid for localhost and 127.0.0.1. */
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
  /** Where the PEM files are, for CLIs such as curl. */
  readonly dir: string;
}

/** Makes a throwaway CA with a server and a client certificate, using the real openssl. */
export function makeTestPki(name = "flyte-connect-test"): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "fc-pki-"));
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name} CA`, "-keyout", "ca.key", "-out", "ca.crt");
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const who of ["server", "client"]) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${who}`, "-keyout", `${who}.key`, "-out", `${who}.csr`);
    ssl("x509", "-req", "-in", `${who}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", `${who}.ext`, "-out", `${who}.crt`);
  }
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return { caCert: read("ca.crt"), serverKey: read("server.key"), serverCert: read("server.crt"), clientKey: read("client.key"), clientCert: read("client.crt"), dir };
}
