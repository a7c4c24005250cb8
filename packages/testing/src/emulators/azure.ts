import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { type EmulatorRequest, type EmulatorResponse, type HttpEmulator, startHttpEmulator } from "./http.ts";

/** Operations a caller may be granted, as in a Key Vault access policy. */
export type AzureSecretPermission = "get" | "list" | "set" | "delete" | "recover" | "purge";

/** Options of {@link startAzureKeyVaultEmulator}. */
export interface AzureKeyVaultEmulatorOptions {
  /** The `X-IDENTITY-HEADER` the managed-identity endpoint expects. @default a random string */
  identityHeader?: string;
  /** Tenant named in the 401 challenge. @default "00000000-0000-0000-0000-000000000000" */
  tenantId?: string;
  /** Days a deleted secret stays recoverable. @default 90 */
  recoverableDays?: number;
  /** How long a deletion takes to be recorded (the name is "being deleted" meanwhile). @default 0 */
  deleteDelayMs?: number;
  /** How long a purge takes to free the name. @default 0 */
  purgeDelayMs?: number;
  /** How long a recovery takes before the secret reads again. @default 0 */
  recoverDelayMs?: number;
  /**
   * Serve the vault over HTTPS with a built-in loopback certificate (trust it with `ca`).
   * Recent SDKs refuse to send a token to an `http://` vault, as Key Vault is HTTPS only.
   * @default true
   */
  tls?: boolean;
}

/** A running Key Vault emulator. */
export interface AzureKeyVaultEmulator extends HttpEmulator {
  /** The vault URL: `https://127.0.0.1:<port>` (or `http://` with `tls: false`). */
  readonly url: string;
  /** PEM certificate of the HTTPS endpoint, to trust (`tlsOptions: { ca }`); valid for 127.0.0.1 and localhost. */
  readonly ca: string;
  /** The plain HTTP endpoint behind the TLS front (the managed-identity endpoint lives here too). */
  readonly httpUrl: string;
  /** `IDENTITY_ENDPOINT` for `ManagedIdentityCredential` (App Service style). */
  readonly identityEndpoint: string;
  /** `IDENTITY_HEADER` for `ManagedIdentityCredential`. */
  readonly identityHeader: string;
  /** Access tokens handed out by the managed-identity endpoint. */
  readonly issuedTokens: readonly string[];
  /** What every caller may do; an operation outside it answers 403 Forbidden. @default all */
  permissions: Set<AzureSecretPermission>;
  /** Names (as created) of the live secrets. */
  secretNames(): string[];
  /** Names (as created) of the soft-deleted secrets. */
  deletedNames(): string[];
}

interface Version {
  id: string;
  value: string;
  contentType: string | undefined;
  tags: Record<string, string> | undefined;
  enabled: boolean;
  created: number;
  updated: number;
}

interface Entry {
  name: string;
  versions: Version[];
  /** Soft-delete state: when it was deleted, and until when it is only "being deleted". */
  deletedAt?: number;
  recordedAt?: number;
  /** A recovered secret reads again from this time. */
  readableAt?: number;
}

/** A self-signed certificate for 127.0.0.1 and localhost (2020-2120), for loopback tests only. */
const LOOPBACK_CERT = `-----BEGIN CERTIFICATE-----
MIIBZzCCAQ2gAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAlsb2NhbGhv
c3QwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABINvXt8rTpbqZDpw
0kn7IOASOvoCui85p+h1hoS+FzsBQuBXgCSMC5NecGtxSQCnfmCXFyq3kE80CGHh
/J12k3CjTjBMMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAPBgNVHRMBAf8E
BTADAQH/MB0GA1UdDgQWBBQ3C+XL4uKzu5vuAT5vIZPzii3S+jAKBggqhkjOPQQD
AgNIADBFAiEAiwnTUUGguy0G+sOXz5XsJ3HX34FzLkqQoCjUzZUBP6MCIHsKoRXX
fZ2b/5XKefl2KUPJ7j2xYcio11z/OPNRxnl+
-----END CERTIFICATE-----`;
const LOOPBACK_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyWzjAfsz917ajVqo
YTD9ap0YIEtKr0ABGiZcecdTuwWhRANCAASDb17fK06W6mQ6cNJJ+yDgEjr6Arov
OafodYaEvhc7AULgV4AkjAuTXnBrcUkAp35glxcqt5BPNAhh4fyddpNw
-----END PRIVATE KEY-----`;

const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const MAX_VALUE_BYTES = 25 * 1024;
const MAX_TAGS = 15;
const MAX_CONTENT_TYPE = 255;
const PAGE_DEFAULT = 25;

const CODES: Record<number, string> = {
  400: "BadParameter",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  429: "Throttled",
  500: "InternalServerError",
  503: "ServiceUnavailable",
};

const error = (status: number, message: string, inner?: string): EmulatorResponse => ({
  status,
  body: {
    error: {
      code: CODES[status] ?? "Unknown",
      message,
      ...(inner === undefined ? {} : { innererror: { code: inner } }),
    },
  },
});

const secretNotFound = (what: string): EmulatorResponse => ({
  status: 404,
  body: {
    error: {
      code: "SecretNotFound",
      message: `A secret with (name/id) ${what} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`,
    },
  },
});

/**
 * Starts an in-memory Azure Key Vault (secrets REST API) on 127.0.0.1, over HTTPS
 * with a built-in loopback certificate (`ca`) unless `tls: false`: the challenge flow, set/get/update/list/versions, soft delete with
 * recover and purge, paging with `nextLink`, Key Vault's error bodies, any
 * `api-version`, and an App Service style managed-identity token endpoint at
 * `/msi/token` so `@azure/identity`'s `ManagedIdentityCredential` works against it.
 *
 * @example
 * const vault = await startAzureKeyVaultEmulator();
 * const client = new SecretClient(vault.url, credential, {
 *   tlsOptions: { ca: vault.ca }, disableChallengeResourceVerification: true,
 * });
 */
export async function startAzureKeyVaultEmulator(
  options: AzureKeyVaultEmulatorOptions = {},
): Promise<AzureKeyVaultEmulator> {
  const identityHeader = options.identityHeader ?? randomBytes(12).toString("hex");
  const tenantId = options.tenantId ?? "00000000-0000-0000-0000-000000000000";
  const recoverableDays = options.recoverableDays ?? 90;
  const secrets = new Map<string, Entry>();
  const issuedTokens: string[] = [];
  const permissions = new Set<AzureSecretPermission>(["get", "list", "set", "delete", "recover", "purge"]);
  let vaultUrl = "";

  const now = (): number => Math.floor(Date.now() / 1000);
  const live = (entry: Entry | undefined): entry is Entry =>
    entry !== undefined && entry.deletedAt === undefined && Date.now() >= (entry.readableAt ?? 0);
  const recorded = (entry: Entry | undefined): boolean =>
    entry?.deletedAt !== undefined && Date.now() >= (entry.recordedAt ?? 0);
  const current = (entry: Entry): Version => entry.versions[entry.versions.length - 1] as Version;

  const attributes = (version: Version) => ({
    enabled: version.enabled,
    created: version.created,
    updated: version.updated,
    recoveryLevel: "Recoverable+Purgeable",
    recoverableDays,
  });
  const meta = (version: Version) => ({
    ...(version.contentType === undefined ? {} : { contentType: version.contentType }),
    ...(version.tags === undefined ? {} : { tags: version.tags }),
  });
  const bundle = (entry: Entry, version: Version, withValue: boolean) => ({
    ...(withValue ? { value: version.value } : {}),
    id: `${vaultUrl}/secrets/${entry.name}/${version.id}`,
    attributes: attributes(version),
    ...meta(version),
  });
  const deletedBundle = (entry: Entry) => ({
    ...bundle(entry, current(entry), false),
    recoveryId: `${vaultUrl}/deletedsecrets/${entry.name}`,
    deletedDate: entry.deletedAt,
    scheduledPurgeDate: (entry.deletedAt ?? 0) + recoverableDays * 86_400,
  });

  /** One page of items; `nextLink` carries the offset as a skip token, as the service does. */
  const page = (request: EmulatorRequest, items: object[]): EmulatorResponse => {
    const raw = request.url.searchParams.get("maxresults");
    const size = raw === null ? PAGE_DEFAULT : Number(raw);
    if (!Number.isInteger(size) || size < 1 || size > 25) {
      return error(400, "Invalid maxresults: the value must be between 1 and 25.");
    }
    const skip = Number(request.url.searchParams.get("$skiptoken") ?? "0") || 0;
    const next = new URL(request.url.pathname, vaultUrl);
    next.searchParams.set("api-version", request.url.searchParams.get("api-version") ?? "7.4");
    next.searchParams.set("$skiptoken", String(skip + size));
    next.searchParams.set("maxresults", String(size));
    return {
      status: 200,
      body: {
        value: items.slice(skip, skip + size),
        nextLink: skip + size < items.length ? next.href : null,
      },
    };
  };

  const denied = (permission: AzureSecretPermission): EmulatorResponse | undefined =>
    permissions.has(permission)
      ? undefined
      : error(
          403,
          `The user, group or application does not have secrets ${permission} permission on key vault '${vaultUrl}'.`,
          "AccessDenied",
        );

  function setSecret(name: string, request: EmulatorRequest): EmulatorResponse {
    const body = request.json<{
      value?: unknown;
      contentType?: unknown;
      tags?: Record<string, string>;
      attributes?: { enabled?: boolean };
    }>();
    if (body === undefined || typeof body.value !== "string") {
      return error(400, "Property 'value' is required and must be a string.");
    }
    if (Buffer.byteLength(body.value, "utf8") > MAX_VALUE_BYTES) {
      return error(400, `The secret value exceeds the maximum size of ${MAX_VALUE_BYTES} bytes.`);
    }
    const problem = checkMeta(body);
    if (problem) return problem;
    const key = name.toLowerCase();
    const existing = secrets.get(key);
    if (existing?.deletedAt !== undefined) {
      return recorded(existing)
        ? error(
            409,
            `Secret ${existing.name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
            "ObjectIsDeletedButRecoverable",
          )
        : error(409, `Secret ${existing.name} is currently being deleted.`, "ObjectIsBeingDeleted");
    }
    if (existing !== undefined && Date.now() < (existing.readableAt ?? 0)) {
      return error(409, `Secret ${existing.name} is currently being recovered.`);
    }
    const time = now();
    const version: Version = {
      id: randomBytes(16).toString("hex"),
      value: body.value,
      contentType: body.contentType as string | undefined,
      tags: body.tags,
      enabled: body.attributes?.enabled ?? true,
      created: time,
      updated: time,
    };
    const entry = existing ?? { name, versions: [] };
    entry.versions.push(version);
    secrets.set(key, entry);
    return { status: 200, body: bundle(entry, version, true) };
  }

  function checkMeta(body: { contentType?: unknown; tags?: unknown }): EmulatorResponse | undefined {
    if (body.contentType !== undefined && body.contentType !== null) {
      if (typeof body.contentType !== "string" || body.contentType.length > MAX_CONTENT_TYPE) {
        return error(400, `contentType must be a string of at most ${MAX_CONTENT_TYPE} characters.`);
      }
    }
    if (body.tags !== undefined && body.tags !== null) {
      const entries = typeof body.tags === "object" ? Object.entries(body.tags) : [];
      if (typeof body.tags !== "object" || entries.some(([, value]) => typeof value !== "string")) {
        return error(400, "Tags must be a map of strings.");
      }
      if (entries.length > MAX_TAGS)
        return error(400, `The number of tags exceeds the maximum of ${MAX_TAGS}.`);
    }
    return undefined;
  }

  function findVersion(entry: Entry, version: string): Version | undefined {
    return version === "" ? current(entry) : entry.versions.find((item) => item.id === version.toLowerCase());
  }

  async function route(request: EmulatorRequest): Promise<EmulatorResponse> {
    const { method } = request;
    const parts = request.rawPath.split("/").slice(1).map(decodeURIComponent);
    const [collection, rawName, third, fourth] = parts;

    if (collection === "msi" && rawName === "token" && method === "GET") return token(request);

    const authorization = request.headers.authorization;
    if (typeof authorization !== "string" || !/^Bearer \S+$/.test(authorization)) {
      return {
        ...error(401, "AKV10000: Request is missing a Bearer or PoP token."),
        headers: {
          "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="https://vault.azure.net"`,
        },
      };
    }

    if (collection === "secrets" && rawName === undefined && method === "GET") {
      const refused = denied("list");
      if (refused) return refused;
      const items = [...secrets.values()]
        .filter(live)
        .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()))
        .map((entry) => {
          const version = current(entry);
          return {
            id: `${vaultUrl}/secrets/${entry.name}`,
            attributes: attributes(version),
            ...meta(version),
          };
        });
      return page(request, items);
    }
    if (collection === "deletedsecrets" && rawName === undefined && method === "GET") {
      const refused = denied("list");
      if (refused) return refused;
      return page(request, [...secrets.values()].filter(recorded).map(deletedBundle));
    }
    if (rawName === undefined || (collection !== "secrets" && collection !== "deletedsecrets")) {
      return error(404, `The requested resource ${request.rawPath} does not exist.`);
    }
    if (!NAME.test(rawName)) return error(400, `The request URI contains an invalid name: ${rawName}`);
    const entry = secrets.get(rawName.toLowerCase());

    if (collection === "deletedsecrets") {
      if (third === undefined && method === "GET") {
        return (
          denied("get") ??
          (entry !== undefined && recorded(entry)
            ? { status: 200, body: deletedBundle(entry) }
            : deletedNotFound())
        );
      }
      if (third === undefined && method === "DELETE") {
        const refused = denied("purge");
        if (refused) return refused;
        if (entry?.deletedAt !== undefined && !recorded(entry)) {
          return error(409, `Secret ${entry.name} is currently being deleted.`, "ObjectIsBeingDeleted");
        }
        if (entry === undefined || !recorded(entry)) return deletedNotFound();
        // The name stays taken ("being deleted") until the purge completes.
        entry.versions = entry.versions.slice(-1);
        entry.recordedAt = Number.POSITIVE_INFINITY;
        const purgeDelay = options.purgeDelayMs ?? 0;
        if (purgeDelay > 0) setTimeout(() => secrets.delete(rawName.toLowerCase()), purgeDelay).unref();
        else secrets.delete(rawName.toLowerCase());
        return { status: 204 };
      }
      if (third === "recover" && method === "POST") {
        const refused = denied("recover");
        if (refused) return refused;
        if (entry === undefined || !recorded(entry)) return deletedNotFound();
        delete entry.deletedAt;
        delete entry.recordedAt;
        entry.readableAt = Date.now() + (options.recoverDelayMs ?? 0);
        return { status: 200, body: bundle(entry, current(entry), false) };
      }
      return error(405, `The method ${method} is not allowed here.`);
    }

    if (third === "versions" && fourth === undefined && method === "GET") {
      const refused = denied("list");
      if (refused) return refused;
      if (!live(entry)) return secretNotFound(rawName);
      return page(
        request,
        entry.versions.map((version) => ({
          id: `${vaultUrl}/secrets/${entry.name}/${version.id}`,
          attributes: attributes(version),
          ...meta(version),
        })),
      );
    }
    if (fourth !== undefined) return error(404, `The requested resource ${request.rawPath} does not exist.`);
    const versionId = third ?? "";

    switch (method) {
      case "PUT":
        if (third !== undefined) return error(405, "Set a secret with PUT /secrets/{name}.");
        return denied("set") ?? setSecret(rawName, request);
      case "GET": {
        const refused = denied("get");
        if (refused) return refused;
        const version = live(entry) ? findVersion(entry, versionId) : undefined;
        if (!live(entry) || version === undefined) {
          return secretNotFound(versionId === "" ? rawName : `${rawName}/${versionId}`);
        }
        if (!version.enabled) {
          return error(403, "Operation get is not allowed on a disabled secret.", "SecretDisabled");
        }
        return { status: 200, body: bundle(entry, version, true) };
      }
      case "PATCH": {
        const refused = denied("set");
        if (refused) return refused;
        const version = live(entry) ? findVersion(entry, versionId) : undefined;
        if (!live(entry) || version === undefined) return secretNotFound(`${rawName}/${versionId}`);
        const body =
          request.json<{
            contentType?: string;
            tags?: Record<string, string>;
            attributes?: { enabled?: boolean };
          }>() ?? {};
        const problem = checkMeta(body);
        if (problem) return problem;
        if (body.contentType !== undefined) version.contentType = body.contentType;
        if (body.tags !== undefined) version.tags = body.tags;
        if (body.attributes?.enabled !== undefined) version.enabled = body.attributes.enabled;
        version.updated = now();
        return { status: 200, body: bundle(entry, version, false) };
      }
      case "DELETE": {
        const refused = denied("delete");
        if (refused) return refused;
        if (third !== undefined) return error(405, "Delete a secret with DELETE /secrets/{name}.");
        if (!live(entry)) return secretNotFound(rawName);
        entry.deletedAt = now();
        entry.recordedAt = Date.now() + (options.deleteDelayMs ?? 0);
        return { status: 200, body: deletedBundle(entry) };
      }
      default:
        return error(405, `The method ${method} is not allowed here.`);
    }
  }

  function deletedNotFound(): EmulatorResponse {
    return { status: 404, body: { error: { code: "SecretNotFound", message: "Deleted Secret not found" } } };
  }

  function token(request: EmulatorRequest): EmulatorResponse {
    if (request.headers["x-identity-header"] !== identityHeader) {
      return {
        status: 401,
        body: { statusCode: 401, message: "Unauthorized: the X-IDENTITY-HEADER is missing or wrong." },
      };
    }
    const resource = request.url.searchParams.get("resource");
    if (resource === null || resource === "") {
      return { status: 400, body: { statusCode: 400, message: "The resource parameter is required." } };
    }
    const accessToken = `emulated-${randomBytes(16).toString("hex")}`;
    issuedTokens.push(accessToken);
    return {
      status: 200,
      body: {
        access_token: accessToken,
        expires_on: String(now() + 3600),
        resource,
        token_type: "Bearer",
        client_id: request.url.searchParams.get("client_id") ?? "emulated-client",
      },
    };
  }

  const http = await startHttpEmulator(route, {
    errorBody: (status) => ({
      error: { code: CODES[status] ?? "Unknown", message: `Injected failure (HTTP ${status}).` },
    }),
  });
  const front = options.tls === false ? undefined : await startTlsFront(http.port);
  vaultUrl = front === undefined ? http.url : `https://127.0.0.1:${front.port}`;

  return {
    url: vaultUrl,
    port: front?.port ?? http.port,
    ca: LOOPBACK_CERT,
    httpUrl: http.url,
    faults: http.faults,
    requests: http.requests,
    close: async () => {
      await front?.close();
      await http.close();
    },
    identityEndpoint: `${http.url}/msi/token`,
    identityHeader,
    issuedTokens,
    permissions,
    secretNames: () =>
      [...secrets.values()].filter((entry) => entry.deletedAt === undefined).map((e) => e.name),
    deletedNames: () => [...secrets.values()].filter(recorded).map((entry) => entry.name),
  };
}

/** Terminates TLS on a random port and pipes each connection to the plain HTTP emulator; a dropped connection stays dropped. */
async function startTlsFront(httpPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<TLSSocket | Socket>();
  const server = createTlsServer({ key: LOOPBACK_KEY, cert: LOOPBACK_CERT }, (client) => {
    const upstream = connect(httpPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
