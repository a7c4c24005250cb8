import { z } from "zod";
import { StrongboxError } from "./errors.ts";
import { validateRef } from "./naming.ts";
import { parseOptions } from "./options.ts";
import { cleanRef, matchesScope, matchesTags, refId } from "./refs.ts";
import type {
  BackendFromConfig,
  Capabilities,
  ListQuery,
  PutOptions,
  Secret,
  SecretBackend,
  SecretEntry,
  SecretMetadata,
  SecretRef,
} from "./types.ts";
import { type SecretInput, SecretValue } from "./value.ts";

/** Options of {@link memory}. */
export interface MemoryOptions {
  /** Versions kept per secret; older ones are dropped. @default 10 */
  maxVersions?: number;
}

interface Version {
  value: SecretValue;
  createdAt: Date;
}

interface Stored {
  ref: SecretRef;
  description: string | undefined;
  tags: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
  versions: Map<number, Version>;
  current: number;
}

const capabilities: Capabilities = {
  tags: true,
  tagFilter: "server",
  versions: true,
  binary: true,
  description: true,
  checkAndSet: true,
};

/**
 * A store in this process's memory (`type: memory`): for tests, and for values
 * that come from somewhere else at start-up. Nothing is persisted.
 *
 * @example
 * const backend = memory();
 * await backend.put({ key: "API_KEY" }, "hunter2");
 */
export function memory(options: MemoryOptions = {}): SecretBackend {
  const maxVersions = options.maxVersions ?? 10;
  if (!Number.isInteger(maxVersions) || maxVersions < 1) {
    throw new StrongboxError("INVALID_OPTIONS", "memory.maxVersions must be a positive integer");
  }
  const secrets = new Map<string, Stored>();

  const entryOf = (stored: Stored, version: number): SecretEntry => ({
    ref: cleanRef(stored.ref),
    tags: { ...stored.tags },
    version: String(version),
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
    ...(stored.description === undefined ? {} : { description: stored.description }),
  });

  return {
    type: "memory",
    capabilities,
    async get(ref, getOptions = {}) {
      validateRef(ref);
      const stored = secrets.get(refId(ref));
      if (stored === undefined) return undefined;
      const number = getOptions.version === undefined ? stored.current : Number(getOptions.version);
      const version = stored.versions.get(number);
      if (version === undefined) return undefined;
      const secret: Secret = { ...entryOf(stored, number), value: version.value };
      return secret;
    },
    async *list(query?: ListQuery) {
      const matching = [...secrets.values()].filter(
        (stored) => matchesScope(stored.ref, query) && matchesTags(stored.tags, query?.tags),
      );
      for (const stored of matching) yield entryOf(stored, stored.current);
    },
    async put(ref, value: SecretInput, putOptions: PutOptions = {}): Promise<SecretMetadata> {
      validateRef(ref);
      const id = refId(ref);
      const now = new Date();
      const existing = secrets.get(id);
      const expected = putOptions.expectedVersion;
      if (expected !== undefined) {
        const current = existing === undefined ? null : String(existing.current);
        if ((expected === null || expected === "0" ? null : expected) !== current) {
          throw new StrongboxError(
            "CONFLICT",
            `expected version ${expected ?? "none"}, found ${current ?? "none"}`,
            {
              backend: "memory",
              operation: "put",
              ref,
            },
          );
        }
      }
      const stored: Stored = existing ?? {
        ref: cleanRef(ref),
        description: undefined,
        tags: {},
        createdAt: now,
        updatedAt: now,
        versions: new Map(),
        current: 0,
      };
      stored.current += 1;
      stored.versions.set(stored.current, { value: SecretValue.from(value), createdAt: now });
      stored.versions.delete(stored.current - maxVersions);
      stored.updatedAt = now;
      if (putOptions.tags !== undefined) stored.tags = { ...putOptions.tags };
      if (putOptions.description !== undefined) stored.description = putOptions.description;
      secrets.set(id, stored);
      return entryOf(stored, stored.current);
    },
    async delete(ref) {
      validateRef(ref);
      return secrets.delete(refId(ref));
    },
    async close() {
      secrets.clear();
    },
  };
}

const memoryOptions = z.object({ maxVersions: z.number().int().positive().optional() }).strict();

/** `type: memory` from configuration: the `memory` block takes `max-versions`. */
export const memoryFromConfig: BackendFromConfig = (options, context) =>
  memory(parseOptions(memoryOptions, options, context.path, "memory"));
