import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import {
  type BackendContext,
  type Capabilities,
  cleanRef,
  matchesScope,
  matchesTags,
  type NameCodec,
  nameCodec,
  namingRules,
  type Secret,
  type SecretBackend,
  type SecretEntry,
  type SecretRef,
  SecretValue,
  StrongboxError,
  validateRef,
} from "@strongbox/core";
import { buildClient, type CallContext, Code, caller, codeOf, toError } from "./client.ts";
import {
  crc32c,
  type GcpSecret,
  idOf,
  listFilter,
  metadataFields,
  readMetadata,
  refOf,
  toDate,
  toValue,
} from "./metadata.ts";
import { type GoogleSecretManagerOptions, resolveOptions, TYPE } from "./options.ts";

const VERSION = /^(?:\d+|latest|[A-Za-z0-9_-]{1,63})$/;
const PAGE_SIZE = 500;

/**
 * Google Secret Manager (`type: google-secret-manager`). A secret is a Secret plus versions:
 * `put` adds a version (creating the secret when absent), `get` reads `latest` or a given
 * version, `delete` deletes the secret and its versions. Tags go to labels where they fit
 * Google's label rules and to an annotation otherwise; the exact ref is kept in an annotation.
 *
 * @example
 * const backend = googleSecretManager({ project: "my-project", prefix: "billing" });
 * await backend.put?.({ namespace: "company.team", key: "DB_PASSWORD" }, "hunter2");
 */
export function googleSecretManager(
  options: GoogleSecretManagerOptions = {},
  context: Partial<BackendContext> = {},
): SecretBackend {
  const path = context.path ?? `secret.${TYPE}`;
  const resolved = resolveOptions(
    {
      ...options,
      ...(options.prefix === undefined && context.prefix !== undefined && { prefix: context.prefix }),
    },
    path,
  );
  let codec: NameCodec;
  try {
    codec = nameCodec(namingRules.gcp, { prefix: resolved.prefix, mode: resolved.naming });
  } catch (error) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `invalid options: ${path}.prefix: ${(error as Error).message}`,
      {
        backend: TYPE,
      },
    );
  }
  const defaultTags = resolved.tags;
  const call = caller(resolved);
  let client: SecretManagerServiceClient | undefined = resolved.client;
  const sdk = (): SecretManagerServiceClient => {
    client ??= buildClient(resolved);
    return client;
  };
  let project: Promise<string> | undefined;
  const parent = (): Promise<string> => {
    project ??= (async () => {
      if (resolved.project !== undefined) return resolved.project;
      if (resolved.serviceAccount?.project_id !== undefined) return resolved.serviceAccount.project_id;
      return sdk().getProjectId();
    })().catch((error: unknown) => {
      project = undefined;
      throw toError(error, { operation: "connect" }, "set the project option");
    });
    return project.then((id) => `projects/${id}`);
  };
  const secretName = async (ref: SecretRef): Promise<string> => {
    validateRef(ref);
    return `${await parent()}/secrets/${codec.encode(ref)}`;
  };

  const capabilities: Capabilities = {
    tags: resolved.readMetadata,
    tagFilter: resolved.readMetadata ? "server" : "none",
    versions: true,
    binary: false,
    description: resolved.readMetadata,
    checkAndSet: false,
    maxValueBytes: 65_536,
  };

  /** Runs a call; NOT_FOUND resolves `undefined`, every other failure becomes a StrongboxError. */
  const orMissing = async <T>(run: () => Promise<T>, where: CallContext): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      if (codeOf(error) === Code.NOT_FOUND) return undefined;
      throw toError(error, where);
    }
  };

  const backend: SecretBackend = {
    type: TYPE,
    capabilities,

    async get(ref, getOptions = {}) {
      const name = await secretName(ref);
      const where = { operation: "get", ref };
      const version = getOptions.version ?? "latest";
      if (!VERSION.test(version))
        throw new StrongboxError("INVALID_NAME", "a version is a number, `latest` or an alias", {
          backend: TYPE,
          ...where,
        });
      const [accessed, metadata] = await Promise.allSettled([
        call((o) => sdk().accessSecretVersion({ name: `${name}/versions/${version}` }, o), where),
        resolved.readMetadata ? call((o) => sdk().getSecret({ name }, o), where) : Promise.resolve(undefined),
      ]);
      for (const outcome of [accessed, metadata]) {
        if (outcome.status === "rejected" && codeOf(outcome.reason) !== Code.NOT_FOUND) {
          const hint =
            codeOf(outcome.reason) === Code.PERMISSION_DENIED && outcome === metadata
              ? "reading tags needs secretmanager.secrets.get; set readMetadata: false to read with secretAccessor alone"
              : codeOf(outcome.reason) === Code.FAILED_PRECONDITION
                ? "the version is disabled or destroyed"
                : undefined;
          throw toError(outcome.reason, where, hint);
        }
      }
      if (accessed.status === "rejected" || metadata.status === "rejected") return undefined;
      const [response] = accessed.value;
      const data = response.payload?.data ?? new Uint8Array();
      const expected = response.payload?.dataCrc32c;
      if (expected !== undefined && expected !== null && Number(expected) !== crc32c(toBytes(data)))
        throw new StrongboxError("BACKEND", "the payload failed its CRC32C check", {
          backend: TYPE,
          ...where,
        });
      const secret = metadata.value?.[0];
      const meta = secret === undefined ? { tags: {} } : readMetadata(secret);
      const createdAt = toDate(secret?.createTime);
      const found: Secret = {
        ref: cleanRef(ref),
        value: toValue(toBytes(data)),
        ...meta,
        version: idOfVersion(response.name),
        ...(createdAt && { createdAt }),
      };
      return found;
    },

    async *list(query = {}) {
      const request = {
        parent: await parent(),
        filter: listFilter(query.tags, codec.listPrefix(query)),
        pageSize: PAGE_SIZE,
        pageToken: "",
      };
      const where = { operation: "list" };
      for (;;) {
        const page = await call(
          (o) => sdk().listSecrets(request, { ...o, autoPaginate: false }),
          where,
        ).catch((error: unknown) => {
          throw toError(error, where);
        });
        const [secrets, , response] = page;
        for (const secret of secrets) {
          const entry = entryOf(secret, codec);
          if (entry && matchesScope(entry.ref, query) && matchesTags(entry.tags, query.tags)) yield entry;
        }
        if (!response?.nextPageToken) return;
        request.pageToken = response.nextPageToken;
      }
    },

    async put(ref, value, putOptions = {}) {
      const name = await secretName(ref);
      const where = { operation: "put", ref };
      if (putOptions.expectedVersion !== undefined)
        throw new StrongboxError("UNSUPPORTED", "Secret Manager has no check-and-set on versions", {
          backend: TYPE,
          ...where,
        });
      // Tags given replace the secret's tags; without them the secret keeps its own. Default tags fill in either way.
      const tags = putOptions.tags === undefined ? undefined : { ...defaultTags, ...putOptions.tags };
      const data = SecretValue.from(value).bytes();
      if (data.byteLength > 65_536)
        throw new StrongboxError("BACKEND", "a value holds at most 64 KiB in Secret Manager", {
          backend: TYPE,
          ...where,
        });
      let current: GcpSecret | undefined = (
        await orMissing(() => call((o) => sdk().getSecret({ name }, o), where), where)
      )?.[0];
      if (current === undefined) {
        const fields = metadataFields(ref, tags ?? defaultTags, putOptions.description);
        const created = await orCreated(where, () =>
          call(
            (o) =>
              sdk().createSecret(
                {
                  parent: name.slice(0, name.indexOf("/secrets/")),
                  secretId: idOf(name),
                  secret: { replication: { automatic: {} }, ...fields },
                },
                o,
              ),
            where,
          ),
        );
        current =
          created?.[0] ?? (await call((o) => sdk().getSecret({ name }, o), where).catch(fail(where)))[0];
      }
      const meta = readMetadata(current);
      const nextTags = tags ?? { ...defaultTags, ...meta.tags };
      const description = putOptions.description ?? meta.description;
      const fields = metadataFields(ref, nextTags, description, current.annotations ?? {});
      if (!sameMap(fields.labels, current.labels) || !sameMap(fields.annotations, current.annotations)) {
        await call(
          (o) =>
            sdk().updateSecret(
              {
                secret: { name: current.name, etag: current.etag, ...fields },
                updateMask: { paths: ["labels", "annotations"] },
              },
              o,
            ),
          where,
        ).catch(fail(where));
      }
      const [version] = await call(
        (o) => sdk().addSecretVersion({ parent: name, payload: { data, dataCrc32c: crc32c(data) } }, o),
        where,
      ).catch(fail(where));
      const createdAt = toDate(current.createTime);
      const updatedAt = toDate(version.createTime);
      return {
        tags: { ...nextTags },
        ...(description !== undefined && { description }),
        version: idOfVersion(version.name),
        ...(createdAt && { createdAt }),
        ...(updatedAt && { updatedAt }),
      };
    },

    async delete(ref) {
      const name = await secretName(ref);
      const where = { operation: "delete", ref };
      const deleted = await orMissing(() => call((o) => sdk().deleteSecret({ name }, o), where), where);
      return deleted !== undefined;
    },

    async close() {
      // A client the caller passed in is the caller's to close.
      if (client !== undefined && client !== resolved.client) await client.close();
      client = undefined;
    },
  };
  return backend;

  /** CreateSecret; ALREADY_EXISTS (a concurrent put won) resolves `undefined`. */
  async function orCreated<T>(where: CallContext, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      if (codeOf(error) === Code.ALREADY_EXISTS) return undefined;
      throw toError(error, where);
    }
  }
}

const fail =
  (where: CallContext) =>
  (error: unknown): never => {
    throw toError(error, where);
  };

function entryOf(secret: GcpSecret, codec: NameCodec): SecretEntry | undefined {
  const ref = refOf(secret, codec);
  if (ref === undefined) return undefined;
  const createdAt = toDate(secret.createTime);
  return { ref, ...readMetadata(secret), ...(createdAt && { createdAt }) };
}

function idOfVersion(name: string | null | undefined): string | undefined {
  return /\/versions\/([^/]+)$/.exec(name ?? "")?.[1];
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? Buffer.from(data, "base64") : data;
}

function sameMap(a: Record<string, string>, b: Record<string, string> | null | undefined): boolean {
  const other = b ?? {};
  const keys = Object.keys(a);
  return keys.length === Object.keys(other).length && keys.every((key) => other[key] === a[key]);
}
