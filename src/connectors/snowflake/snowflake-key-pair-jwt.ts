import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { ConnectorError } from "../errors.js";

const signAsync = promisify(sign) as (algorithm: string, data: Buffer, key: KeyObject) => Promise<Buffer>;

/** Snowflake accepts key-pair JWTs for up to an hour; renew well before. */
const LIFETIME_S = 59 * 60;
const RENEW_BEFORE_S = 5 * 60;

interface SigningKey {
  readonly key: KeyObject;
  /** `SHA256:<base64 of the SHA-256 of the DER public key>`, what `DESCRIBE USER` shows as RSA_PUBLIC_KEY_FP. */
  readonly fingerprint: string;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/**
 * The account part of a key-pair JWT's claims: upper case, and for an account locator without its region
 * (`xy12345.us-east-1` → `XY12345`), as Snowflake's key-pair authentication guide says.
 */
export function jwtAccount(account: string): string {
  return account.split(".")[0]!.toUpperCase();
}

/**
 * Key-pair JWTs for the Snowflake SQL API (`X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT`): RS256,
 * `iss = ACCOUNT.USER.SHA256:<fingerprint>`, `sub = ACCOUNT.USER`, signed with node:crypto off the event
 * loop's critical path (the callback form of `sign`). Keys are decrypted once and tokens reused until five
 * minutes before they expire, both cached by a hash of the key material, never by the key itself.
 */
export class SnowflakeKeyPairTokens {
  private readonly keys = new Map<string, SigningKey>();
  private readonly tokens = new Map<string, { readonly token: string; readonly renewAt: number }>();

  async token(account: string, user: string, privateKeyPem: string, passphrase: string | undefined): Promise<string> {
    const keyId = createHash("sha256")
      .update(privateKeyPem)
      .update("\0")
      .update(passphrase ?? "")
      .digest("hex");
    const tokenId = `${keyId}:${account}:${user}`;
    const now = Math.floor(Date.now() / 1000);
    const cached = this.tokens.get(tokenId);
    if (cached && cached.renewAt > now) return cached.token;
    const signing = this.signingKey(keyId, privateKeyPem, passphrase);
    const qualifiedUser = `${jwtAccount(account)}.${user.toUpperCase()}`;
    const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
    const payload = b64url(JSON.stringify({ iss: `${qualifiedUser}.${signing.fingerprint}`, sub: qualifiedUser, iat: now, exp: now + LIFETIME_S }));
    const signature = await signAsync("sha256", Buffer.from(`${header}.${payload}`), signing.key);
    const token = `${header}.${payload}.${b64url(signature)}`;
    if (this.tokens.size >= 256) this.tokens.delete(this.tokens.keys().next().value!);
    this.tokens.set(tokenId, { token, renewAt: now + LIFETIME_S - RENEW_BEFORE_S });
    return token;
  }

  private signingKey(keyId: string, pem: string, passphrase: string | undefined): SigningKey {
    const known = this.keys.get(keyId);
    if (known) return known;
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem.trim(), format: "pem", ...(passphrase ? { passphrase } : {}) });
    } catch (e) {
      // OpenSSL's reason ("bad decrypt", "unsupported") names no key material.
      const reason = (e as { reason?: unknown; message?: unknown }).reason ?? (e as Error).message;
      throw ConnectorError.permanent(
        `the Snowflake private key cannot be read (a PEM private key, with its passphrase if it is encrypted, is needed): ${String(reason)}`,
      );
    }
    if (key.asymmetricKeyType !== "rsa")
      throw ConnectorError.permanent(`the Snowflake private key is ${key.asymmetricKeyType ?? "not asymmetric"}; key-pair authentication needs an RSA key`);
    const der = createPublicKey(key).export({ type: "spki", format: "der" });
    const signing = { key, fingerprint: `SHA256:${createHash("sha256").update(der).digest("base64")}` };
    if (this.keys.size >= 64) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(keyId, signing);
    return signing;
  }
}
