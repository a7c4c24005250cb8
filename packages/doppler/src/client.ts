import { type SecretRef, StrongboxError } from "@strongbox/core";
import { messagesOf, type Reply, replyError, type TransportOptions, transport } from "./http.ts";

/** What the API client needs. */
export interface DopplerApiOptions extends TransportOptions {
  project: string | undefined;
  config: string | undefined;
}

/** A secret as Doppler keeps it: the raw value (references not expanded) and its note. */
export interface DopplerSecret {
  raw: string;
  note: string | undefined;
}

/** The part of a Doppler API v3 client the adapter uses. */
export interface DopplerApi {
  /** The raw value and note of a secret; `undefined` when Doppler says it does not exist. */
  getSecret(name: string, ref: SecretRef): Promise<DopplerSecret | undefined>;
  /** The raw values and notes of several secrets in one call per batch; missing names are absent. */
  getSecrets(names: readonly string[]): Promise<Map<string, DopplerSecret>>;
  /** Every secret name of the config, managed `DOPPLER_*` names left out. */
  listNames(): Promise<string[]>;
  setSecret(name: string, value: string, ref: SecretRef): Promise<void>;
  setNote(name: string, note: string, ref: SecretRef): Promise<void>;
  /** False when Doppler says the secret does not exist. */
  deleteSecret(name: string, ref: SecretRef): Promise<boolean>;
}

/** Longest comma-joined name list sent in one URL by `getSecrets`. */
const MAX_NAMES_CHARS = 4000;
const NO_EXTRAS = { include_dynamic_secrets: "false", include_managed_secrets: "false" };

/** A small typed client of the Doppler API v3 secrets endpoints, on `fetch`. */
export function dopplerApi(options: DopplerApiOptions): DopplerApi {
  const send = transport(options);
  const scope: Record<string, string> = {
    ...(options.project !== undefined && { project: options.project }),
    ...(options.config !== undefined && { config: options.config }),
  };
  // A 404 says what is missing: only one about the secret means "absent" (a missing
  // project or config must not read as a missing secret).
  const isMissingSecret = (reply: Reply): boolean => messagesOf(reply).some((text) => /secret/i.test(text));
  const secretOf = (value: { raw?: unknown; note?: unknown } | undefined): DopplerSecret | undefined =>
    typeof value?.raw === "string"
      ? { raw: value.raw, note: typeof value.note === "string" && value.note !== "" ? value.note : undefined }
      : undefined;
  const malformed = (operation: string, what: string, ref?: SecretRef) =>
    new StrongboxError("BACKEND", `Doppler answered without ${what}`, {
      backend: "doppler",
      operation,
      ...(ref !== undefined && { ref }),
    });

  return {
    async getSecret(name, ref) {
      const request = {
        operation: "get",
        ref,
        method: "GET",
        path: "/v3/configs/config/secret",
        query: { ...scope, name },
        allowNotFound: true,
      } as const;
      const reply = await send(request);
      if (reply.status === 404) {
        if (isMissingSecret(reply)) return undefined;
        throw replyError(reply, request);
      }
      const secret = secretOf(reply.body.value as { raw?: unknown; note?: unknown } | undefined);
      if (secret === undefined) throw malformed("get", "a raw value", ref);
      return secret;
    },

    async getSecrets(names) {
      const found = new Map<string, DopplerSecret>();
      for (const batch of batches(names)) {
        const reply = await send({
          operation: "getMany",
          method: "GET",
          path: "/v3/configs/config/secrets",
          query: { ...scope, secrets: batch.join(","), ...NO_EXTRAS },
        });
        const secrets = (reply.body.secrets ?? {}) as Record<string, { raw?: unknown; note?: unknown }>;
        for (const name of batch) {
          const secret = secretOf(secrets[name]);
          if (secret !== undefined) found.set(name, secret);
        }
      }
      return found;
    },

    async listNames() {
      const reply = await send({
        operation: "list",
        method: "GET",
        path: "/v3/configs/config/secrets/names",
        query: { ...scope, ...NO_EXTRAS },
      });
      const names = reply.body.names;
      if (!Array.isArray(names)) throw malformed("list", "a names list");
      return names.filter((name): name is string => typeof name === "string");
    },

    async setSecret(name, value, ref) {
      await send({
        operation: "put",
        ref,
        method: "POST",
        path: "/v3/configs/config/secrets",
        body: { ...scope, secrets: { [name]: value } },
      });
    },

    async setNote(name, note, ref) {
      await send({
        operation: "put",
        ref,
        method: "POST",
        path: "/v3/configs/config/secrets/note",
        body: { ...scope, secret: name, note },
      });
    },

    async deleteSecret(name, ref) {
      const request = {
        operation: "delete",
        ref,
        method: "DELETE",
        path: "/v3/configs/config/secret",
        query: { ...scope, name },
        allowNotFound: true,
      } as const;
      const reply = await send(request);
      if (reply.status !== 404) return true;
      if (isMissingSecret(reply)) return false;
      throw replyError(reply, request);
    },
  };
}

/** Splits names into batches whose comma-joined list stays short enough for a URL. */
function batches(names: readonly string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const name of new Set(names)) {
    if (current.length > 0 && length + name.length + 1 > MAX_NAMES_CHARS) {
      out.push(current);
      current = [];
      length = 0;
    }
    current.push(name);
    length += name.length + 1;
  }
  if (current.length > 0) out.push(current);
  return out;
}
