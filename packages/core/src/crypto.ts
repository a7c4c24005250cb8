import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { StrongboxError } from "./errors.ts";
import type { SecretRef } from "./types.ts";
import { SecretValue } from "./value.ts";

/** An encryption key: at least 32 characters, or base64 of 32 bytes, with an optional id. */
export type EncryptionKey = string | { id?: string; secret: string };

/** Options of {@link createCipher}. */
export interface CipherOptions {
  /** The keys, newest first: the first encrypts, all decrypt. */
  keys: readonly EncryptionKey[];
  /** The backend's type, for error messages. */
  backend?: string;
}

/**
 * AES-256-GCM envelope encryption bound to a ref. The envelope reads
 * `v1:<key id>:<base64url(iv | ciphertext | tag)>`.
 */
export interface SecretCipher {
  /** Id of the key that encrypts. */
  readonly currentKeyId: string;
  /** Encrypts a value for one ref; `scope` binds it further (a prefix, a table). */
  encrypt(value: SecretValue, ref: SecretRef, scope?: string): string;
  /** Decrypts, or throws `DECRYPT_FAILED`: wrong key, flipped bit, truncation, another ref. */
  decrypt(envelope: string, ref: SecretRef, scope?: string): SecretValue;
  /** The key id an envelope names, or `undefined` when it is not an envelope. */
  keyIdOf(envelope: string): string | undefined;
  /** True when the envelope was made by another key than the current one. */
  needsRotation(envelope: string): boolean;
}

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MIN_SECRET_CHARS = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TEXT = 0;
const BINARY = 1;

/**
 * Derives the AES keys once (HKDF-SHA256) and returns the cipher.
 *
 * @example
 * const cipher = createCipher({ keys: [process.env.STRONGBOX_SECRET!] });
 * const envelope = cipher.encrypt(SecretValue.from("hunter2"), { key: "DB_PASSWORD" });
 */
export function createCipher(options: CipherOptions): SecretCipher {
  if (options.keys.length === 0) {
    throw new StrongboxError("INVALID_OPTIONS", "encryption needs at least one key");
  }
  const keys = new Map<string, KeyObject>();
  const ids: string[] = [];
  options.keys.forEach((entry, index) => {
    const { id, key } = deriveKey(entry, index);
    if (keys.has(id))
      throw new StrongboxError(
        "INVALID_OPTIONS",
        `encryption key id "${id}" is given twice (keys[${index}])`,
      );
    keys.set(id, key);
    ids.push(id);
  });
  const currentKeyId = ids[0] as string;
  const currentKey = keys.get(currentKeyId) as KeyObject;
  const fail = (ref: SecretRef, reason: string, cause?: unknown): StrongboxError =>
    new StrongboxError("DECRYPT_FAILED", reason, {
      backend: options.backend,
      operation: "decrypt",
      ref,
      cause,
    });

  function encrypt(value: SecretValue, ref: SecretRef, scope = ""): string {
    const iv = nextIv();
    const cipher = createCipheriv("aes-256-gcm", currentKey, iv);
    cipher.setAAD(aad(currentKeyId, ref, scope));
    // The value's kind, then its bytes, in one buffer that is zeroed once sealed: one update.
    let framed: Buffer;
    if (value.isBinary) {
      const body = value.bytes();
      framed = Buffer.allocUnsafe(1 + body.byteLength);
      framed[0] = BINARY;
      framed.set(body, 1);
      body.fill(0);
    } else {
      const text = value.reveal();
      framed = Buffer.allocUnsafe(1 + Buffer.byteLength(text, "utf8"));
      framed[0] = TEXT;
      framed.write(text, 1, "utf8");
    }
    const encrypted = cipher.update(framed);
    framed.fill(0);
    const final = cipher.final();
    const sealed = Buffer.concat([iv, encrypted, final, cipher.getAuthTag()]);
    return `${VERSION}:${currentKeyId}:${sealed.toString("base64url")}`;
  }

  function decrypt(envelope: string, ref: SecretRef, scope = ""): SecretValue {
    if (typeof envelope !== "string") throw fail(ref, "the stored value is not an envelope");
    // `v1:<key id>:<data>`, exactly three parts (indexOf rather than split: this is every read's path).
    const keyEnd = envelope.indexOf(":", VERSION.length + 1);
    if (!envelope.startsWith(`${VERSION}:`) || keyEnd === -1 || envelope.includes(":", keyEnd + 1)) {
      throw fail(ref, "the stored value is not a v1 envelope");
    }
    const keyId = envelope.slice(VERSION.length + 1, keyEnd);
    const data = envelope.slice(keyEnd + 1);
    const key = keys.get(keyId);
    if (key === undefined) throw fail(ref, `no configured key has id "${keyId}" (a wrong or removed key)`);
    const sealed = Buffer.from(data, "base64url");
    // Buffer.from skips characters outside the alphabet: refuse them rather than decode around them.
    if (sealed.length < IV_BYTES + 1 + TAG_BYTES || !BASE64URL.test(data)) {
      throw fail(ref, "the envelope is truncated or malformed");
    }
    let plain: Buffer;
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(aad(keyId, ref, scope));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      plain = decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES));
      // final() checks the tag; GCM has no block left to give back, so its output is empty.
      const rest = decipher.final();
      if (rest.length > 0) plain = Buffer.concat([plain, rest]);
    } catch (cause) {
      throw fail(
        ref,
        "authentication failed: wrong key, altered ciphertext, or a value moved from another secret",
        cause,
      );
    }
    const kind = plain[0];
    const body = plain.subarray(1);
    if (kind === TEXT) {
      const text = body.toString("utf8");
      plain.fill(0);
      return SecretValue.from(text);
    }
    if (kind === BINARY) return SecretValue.from(new Uint8Array(body));
    throw fail(ref, "the envelope holds an unknown value kind");
  }

  function keyIdOf(envelope: string): string | undefined {
    const [version, keyId] = envelope.split(":", 2);
    return version === VERSION ? keyId : undefined;
  }

  return {
    currentKeyId,
    encrypt,
    decrypt,
    keyIdOf,
    needsRotation: (envelope) => keyIdOf(envelope) !== currentKeyId,
  };
}

// IVs are cut from a block of random bytes drawn 4 KiB at a time (one randomBytes call costs more
// than sealing a short value); every IV takes bytes no other IV has taken.
const IV_BLOCK_BYTES = IV_BYTES * 341;
let ivBlock = Buffer.alloc(0);
let ivOffset = 0;

function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivBlock.length) {
    ivBlock = randomBytes(IV_BLOCK_BYTES);
    ivOffset = 0;
  }
  const iv = ivBlock.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

function deriveKey(entry: EncryptionKey, index: number): { id: string; key: KeyObject } {
  const { id, secret } = typeof entry === "string" ? { id: undefined, secret: entry } : entry;
  if (typeof secret !== "string" || secret.length < MIN_SECRET_CHARS) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `encryption key keys[${index}] must be at least ${MIN_SECRET_CHARS} characters (or base64 of 32 bytes)`,
    );
  }
  if (id !== undefined && !KEY_ID.test(id)) {
    throw new StrongboxError("INVALID_OPTIONS", `encryption key id keys[${index}].id must match ${KEY_ID}`);
  }
  const decoded = Buffer.from(secret, "base64");
  const material =
    decoded.length === 32 && decoded.toString("base64") === secret ? decoded : Buffer.from(secret, "utf8");
  const salt = Buffer.from("strongbox/aes-256-gcm/v1");
  const key = Buffer.from(hkdfSync("sha256", material, salt, "strongbox encryption key", 32));
  const derivedId = Buffer.from(hkdfSync("sha256", material, salt, "strongbox key id", 6)).toString(
    "base64url",
  );
  return { id: id ?? derivedId, key: createSecretKey(key) };
}

/** Binds an envelope to its key, scope and exact ref: lengths prefix the free-text parts, so the encoding is injective. */
function aad(keyId: string, ref: SecretRef, scope: string): Buffer {
  const { tenant, namespace } = ref;
  const tenantPart = tenant === undefined ? "-" : `${tenant.length}:${tenant}`;
  const namespacePart = namespace === undefined ? "-" : `${namespace.length}:${namespace}`;
  return Buffer.from(
    `${VERSION}|${keyId}|${scope.length}:${scope}|${tenantPart}|${namespacePart}|${ref.key}`,
    "utf8",
  );
}
