import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM text of a key and the certificate for it. */
export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

/** Two unrelated CAs, a server certificate for localhost/127.0.0.1 and a client certificate from each CA. */
export interface TestPki {
  readonly ca: KeyPair;
  readonly otherCa: KeyPair;
  readonly server: KeyPair;
  readonly client: KeyPair;
  /** A client certificate signed by `otherCa`: mTLS must refuse it. */
  readonly strangerClient: KeyPair;
  readonly dir: string;
}

const openssl = (dir: string, args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });

/** Makes fresh certificates with the openssl command line (EC P-256, valid one day). */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "fc-pki-"));
  const ca = (name: string) => {
    openssl(dir, [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
    ]);
  };
  const leaf = (name: string, issuer: string, ext: string) => {
    openssl(dir, [
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
    ]);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${issuer}.crt`,
      "-CAkey",
      `${issuer}.key`,
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ]);
  };
  ca("ca");
  ca("other-ca");
  leaf("server", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  leaf("client", "ca", "extendedKeyUsage=clientAuth\n");
  leaf("stranger", "other-ca", "extendedKeyUsage=clientAuth\n");
  const pair = (name: string): KeyPair => ({ key: readFileSync(join(dir, `${name}.key`), "utf8"), cert: readFileSync(join(dir, `${name}.crt`), "utf8") });
  return { ca: pair("ca"), otherCa: pair("other-ca"), server: pair("server"), client: pair("client"), strangerClient: pair("stranger"), dir };
}

/** The PKI of {@link createTestPki} as flat PEM fields, the shape the interop and start-up suites use. */
export interface FlatTestPki {
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
  /** Holds ca.crt, server.key, server.crt, client.key, client.crt, for CLIs such as curl. */
  readonly dir: string;
}

/** {@link createTestPki}, flattened. */
export function makeTestPki(): FlatTestPki {
  const pki = createTestPki();
  return { caCert: pki.ca.cert, serverKey: pki.server.key, serverCert: pki.server.cert, clientKey: pki.client.key, clientCert: pki.client.cert, dir: pki.dir };
}
