import { createPrivateKey } from "node:crypto";
import { type CryptoKey, importJWK, importPKCS8, type JWK } from "jose";
import { credentialError, type FailureContext } from "./errors.ts";

/**
 * Imports a private key for signing: PEM (PKCS#8, PKCS#1 `RSA PRIVATE KEY` as
 * GitHub issues them, SEC1 `EC PRIVATE KEY`) or a JWK as JSON. A key kept in an
 * environment variable with literal `\n` is accepted too. The key is not
 * extractable, and a bad key fails without quoting any of it.
 */
export async function importPrivateKey(
  text: string,
  algorithm: string,
  context: FailureContext,
): Promise<CryptoKey> {
  const trimmed = text.trim().replaceAll("\\n", "\n");
  try {
    if (trimmed.startsWith("{")) {
      const key = await importJWK(JSON.parse(trimmed) as JWK, algorithm, { extractable: false });
      if (key instanceof Uint8Array) throw new Error("symmetric key");
      return key;
    }
    const pkcs8 = trimmed.includes("-----BEGIN PRIVATE KEY-----")
      ? trimmed
      : createPrivateKey(trimmed).export({ format: "pem", type: "pkcs8" }).toString();
    return await importPKCS8(pkcs8, algorithm, { extractable: false });
  } catch {
    // No cause: parser messages (JSON.parse above all) quote the text they choke on.
    throw credentialError(
      "INVALID_OPTIONS",
      `privateKey is not a ${algorithm} private key (expected PEM PKCS#8, PKCS#1 or SEC1, or a private JWK)`,
      context,
    );
  }
}
