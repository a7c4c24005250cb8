import { createSecretManager, type SecretManager } from "@strongbox/core";
import { type CryptoKey, exportJWK, exportPKCS8, generateKeyPair, type JWK } from "jose";

/** A manager over the memory store, with namespace inheritance (the default). */
export function newManager(): Promise<SecretManager> {
  return createSecretManager({ secret: { type: "memory" } });
}

/** A fresh key pair: the private key as PKCS#8 PEM (what a secret holds) and the public key. */
export async function keyPair(
  algorithm: "RS256" | "ES256" | "PS256" = "RS256",
): Promise<{ pem: string; publicKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
  return { pem: await exportPKCS8(privateKey), publicKey, publicJwk: await exportJWK(publicKey) };
}
