import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { createServer, type Server as NetServer, Socket } from "node:net";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** A gRPC status, by name or number. */
export type GrpcStatusName = keyof typeof grpc.status;

/** Faults the emulator injects, mirroring the HTTP emulators' `Faults`. */
export interface GcpFaults {
  /** Delays every call by this many ms. */
  latencyMs: number;
  /** The next `count` calls fail with this gRPC status (e.g. `"UNAVAILABLE"`, `"RESOURCE_EXHAUSTED"`). */
  failNext(count: number, code: GrpcStatusName | grpc.status, message?: string): void;
  /**
   * The next `count` calls get their connection destroyed without an answer (the client sees
   * UNAVAILABLE). Every open connection is cut, so other calls in flight at that moment fail too.
   */
  dropNext(count: number): void;
  /** Clears every fault. */
  reset(): void;
}

/** IAM emulation: the roles the caller holds on every project. */
export interface GcpIam {
  /**
   * Roles granted at the project level (`roles/secretmanager.secretAccessor`, `roles/secretmanager.viewer`,
   * `roles/secretmanager.secretVersionAdder`, `roles/secretmanager.secretVersionManager`,
   * `roles/secretmanager.admin`). A method whose permission no role grants fails with PERMISSION_DENIED.
   * `undefined`: every permission. @default undefined
   */
  roles: string[] | undefined;
}

/** One call the emulator received. */
export interface GcpRequestLogEntry {
  /** The RPC, e.g. `"AccessSecretVersion"`. */
  method: string;
  /** The `name` or `parent` of the request. */
  resource: string;
  /** The `filter` of a list request, when it had one. */
  filter?: string;
  /** The gRPC status answered (`0` for OK), once answered. */
  code?: number;
}

/** A running Google Secret Manager emulator. */
export interface GoogleSecretManagerEmulator {
  /** `127.0.0.1` */
  readonly host: string;
  readonly port: number;
  readonly faults: GcpFaults;
  readonly iam: GcpIam;
  /** Every call so far, in order. */
  readonly requests: GcpRequestLogEntry[];
  /** The project number the emulator answers with for a project id (names in responses carry numbers, as in Google's API). */
  projectNumber(project: string): string;
  close(): Promise<void>;
}

/** Options of {@link startGoogleSecretManagerEmulator}. */
export interface GoogleSecretManagerEmulatorOptions {
  /** Port to listen on. @default 0 (a random free port) */
  port?: number;
}

type Msg = Record<string, unknown>;
type Labels = Record<string, string>;
interface StoredVersion {
  number: number;
  createTime: Date;
  state: "ENABLED" | "DISABLED" | "DESTROYED";
  destroyTime?: Date;
  data?: Buffer;
  crc32c: number;
  clientChecksum: boolean;
  etag: string;
}
interface StoredSecret {
  id: string;
  project: string;
  createTime: Date;
  fields: Msg;
  labels: Labels;
  annotations: Labels;
  etag: string;
  versions: StoredVersion[];
}

class RpcError extends Error {
  readonly code: grpc.status;
  constructor(code: grpc.status, message: string) {
    super(message);
    this.code = code;
  }
}

const S = grpc.status;
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const ANNOTATION_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const MAX_PAYLOAD = 65_536;
const MAX_ANNOTATIONS_BYTES = 16_384;
const UPDATABLE = new Set([
  "labels",
  "annotations",
  "version_aliases",
  "expire_time",
  "ttl",
  "topics",
  "rotation",
]);

const ROLES: Record<string, string[]> = {
  "roles/secretmanager.secretAccessor": ["versions.access"],
  "roles/secretmanager.viewer": ["secrets.get", "secrets.list", "versions.get", "versions.list"],
  "roles/secretmanager.secretVersionAdder": ["versions.add"],
  "roles/secretmanager.secretVersionManager": [
    "versions.add",
    "versions.enable",
    "versions.disable",
    "versions.destroy",
    "versions.get",
    "versions.list",
  ],
  "roles/secretmanager.admin": ["*"],
};
const PERMISSION: Record<string, string> = {
  ListSecrets: "secrets.list",
  CreateSecret: "secrets.create",
  GetSecret: "secrets.get",
  UpdateSecret: "secrets.update",
  DeleteSecret: "secrets.delete",
  AddSecretVersion: "versions.add",
  ListSecretVersions: "versions.list",
  GetSecretVersion: "versions.get",
  AccessSecretVersion: "versions.access",
  DisableSecretVersion: "versions.disable",
  EnableSecretVersion: "versions.enable",
  DestroySecretVersion: "versions.destroy",
};

let serviceDefinition: grpc.ServiceDefinition | undefined;

/** The service definition, built from the protos bundled with `@google-cloud/secret-manager` (an optional peer). */
function loadService(): grpc.ServiceDefinition {
  if (serviceDefinition) return serviceDefinition;
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    file = require.resolve("@google-cloud/secret-manager/build/protos/protos.json");
  } catch (error) {
    throw new Error(
      "startGoogleSecretManagerEmulator() builds its service from the protos of @google-cloud/secret-manager, an optional peer dependency: npm install -D @google-cloud/secret-manager",
      { cause: error },
    );
  }
  const definition = protoLoader.fromJSON(require(file), {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { secretmanager: { v1: { SecretManagerService: grpc.ServiceClientConstructor } } } };
  };
  serviceDefinition = loaded.google.cloud.secretmanager.v1.SecretManagerService.service;
  return serviceDefinition;
}

/** CRC32C (Castagnoli), as Secret Manager checks payloads with. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const timestamp = (date: Date): Msg => ({
  seconds: Math.floor(date.getTime() / 1000),
  nanos: (date.getTime() % 1000) * 1e6,
});
const newEtag = (): string => `"${randomBytes(7).toString("hex")}"`;
const byteLength = (text: string): number => Buffer.byteLength(text, "utf8");

/**
 * Starts an in-memory Google Secret Manager (`google.cloud.secretmanager.v1`) on 127.0.0.1,
 * a `@grpc/grpc-js` server built from the SDK's own bundled protos, with fault injection,
 * a request log and optional IAM emulation (project-level roles).
 *
 * Not emulated: expiration (`ttl`, `expire_time`), rotation and Pub/Sub topics, delayed
 * destruction (`version_destroy_ttl`), regional secrets (`locations/*`), CMEK, per-secret IAM
 * policies (`Get/SetIamPolicy`, `TestIamPermissions` answer UNIMPLEMENTED), and the REST transport.
 *
 * @example
 * const emulator = await startGoogleSecretManagerEmulator();
 * const client = new SecretManagerServiceClient({
 *   apiEndpoint: emulator.host, port: emulator.port,
 *   sslCreds: grpc.credentials.createInsecure(), authClient: new PassThroughClient(),
 * });
 */
export async function startGoogleSecretManagerEmulator(
  options: GoogleSecretManagerEmulatorOptions = {},
): Promise<GoogleSecretManagerEmulator> {
  const service = loadService();
  const secrets = new Map<string, StoredSecret>();
  const projectNumbers = new Map<string, string>();
  const requests: GcpRequestLogEntry[] = [];
  const iam: GcpIam = { roles: undefined };
  let failures: { count: number; code: grpc.status; message?: string } | undefined;
  let drops = 0;
  const faults: GcpFaults = {
    latencyMs: 0,
    failNext(count, code, message) {
      failures = { count, code: typeof code === "number" ? code : S[code], message };
    },
    dropNext(count) {
      drops = count;
    },
    reset() {
      failures = undefined;
      drops = 0;
      faults.latencyMs = 0;
    },
  };

  const projectNumber = (project: string): string => {
    if (/^\d+$/.test(project)) return project;
    let number = projectNumbers.get(project);
    if (number === undefined) {
      const digest = createHash("sha256").update(project).digest();
      number = String(100_000_000_000 + (digest.readUInt32BE(0) % 900_000_000_000));
      projectNumbers.set(project, number);
    }
    return number;
  };
  const parseParent = (parent: unknown): string => {
    const match = /^projects\/([^/]+)$/.exec(String(parent ?? ""));
    if (!match)
      throw new RpcError(S.INVALID_ARGUMENT, `Resource ID [${String(parent)}] is not in a valid format.`);
    return projectNumber(match[1] as string);
  };
  const parseSecretName = (name: unknown): { project: string; id: string; full: string } => {
    const match = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(String(name ?? ""));
    if (!match)
      throw new RpcError(S.INVALID_ARGUMENT, `Resource ID [${String(name)}] is not in a valid format.`);
    const project = projectNumber(match[1] as string);
    const id = match[2] as string;
    return { project, id, full: `projects/${project}/secrets/${id}` };
  };
  const findSecret = (name: unknown, missing = "not found."): StoredSecret => {
    const { project, id, full } = parseSecretName(name);
    const secret = secrets.get(`${project}/${id}`);
    if (!secret) throw new RpcError(S.NOT_FOUND, `Secret [${full}] ${missing}`);
    return secret;
  };
  const secretName = (secret: StoredSecret): string => `projects/${secret.project}/secrets/${secret.id}`;
  const findVersion = (name: unknown): { secret: StoredSecret; version: StoredVersion } => {
    const match = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/]+)$/.exec(String(name ?? ""));
    if (!match)
      throw new RpcError(S.INVALID_ARGUMENT, `Resource ID [${String(name)}] is not in a valid format.`);
    const secret = findSecret(match[1], "not found or has no versions.");
    const wanted = match[2] as string;
    const aliases = (secret.fields.versionAliases ?? {}) as Record<string, string>;
    const number =
      wanted === "latest"
        ? secret.versions.at(-1)?.number
        : /^\d+$/.test(wanted)
          ? Number(wanted)
          : aliases[wanted] === undefined
            ? undefined
            : Number(aliases[wanted]);
    const version = secret.versions.find((candidate) => candidate.number === number);
    if (version) return { secret, version };
    if (wanted === "latest")
      throw new RpcError(S.NOT_FOUND, `Secret [${secretName(secret)}] not found or has no versions.`);
    throw new RpcError(S.NOT_FOUND, `Secret Version [${secretName(secret)}/versions/${wanted}] not found.`);
  };
  const secretMessage = (secret: StoredSecret): Msg => ({
    ...secret.fields,
    name: secretName(secret),
    createTime: timestamp(secret.createTime),
    labels: { ...secret.labels },
    annotations: { ...secret.annotations },
    etag: secret.etag,
  });
  const versionMessage = (secret: StoredSecret, version: StoredVersion): Msg => ({
    name: `${secretName(secret)}/versions/${version.number}`,
    createTime: timestamp(version.createTime),
    ...(version.destroyTime && { destroyTime: timestamp(version.destroyTime) }),
    state: version.state,
    etag: version.etag,
    clientSpecifiedPayloadChecksum: version.clientChecksum,
  });
  const checkLabels = (labels: unknown): Labels => {
    const entries = Object.entries((labels ?? {}) as Labels);
    if (entries.length > 64) throw new RpcError(S.INVALID_ARGUMENT, "A secret can have at most 64 labels.");
    for (const [key, value] of entries) {
      if (!LABEL_KEY.test(key) || byteLength(key) > 128)
        throw new RpcError(
          S.INVALID_ARGUMENT,
          `Label key [${key}] does not match the expression [\\p{Ll}\\p{Lo}][\\p{Ll}\\p{Lo}\\p{N}_-]{0,62}.`,
        );
      if (!LABEL_VALUE.test(value) || byteLength(value) > 128)
        throw new RpcError(
          S.INVALID_ARGUMENT,
          `Label value [${value}] does not match the expression [\\p{Ll}\\p{Lo}\\p{N}_-]{0,63}.`,
        );
    }
    return Object.fromEntries(entries);
  };
  const checkAnnotations = (annotations: unknown): Labels => {
    const entries = Object.entries((annotations ?? {}) as Labels);
    let size = 0;
    for (const [key, value] of entries) {
      if (!ANNOTATION_KEY.test(key) || byteLength(key) > 128)
        throw new RpcError(
          S.INVALID_ARGUMENT,
          `Annotation key [${key}] is invalid: 1-63 characters, [a-zA-Z0-9] at both ends, dashes, underscores, dots and alphanumerics between.`,
        );
      size += byteLength(key) + byteLength(value);
    }
    if (size >= MAX_ANNOTATIONS_BYTES)
      throw new RpcError(
        S.INVALID_ARGUMENT,
        "The total size of annotation keys and values must be less than 16KiB.",
      );
    return Object.fromEntries(entries);
  };
  const checkEtag = (etag: unknown, current: string): void => {
    if (typeof etag === "string" && etag !== "" && etag !== current)
      throw new RpcError(
        S.ABORTED,
        "The etag provided in the request does not match the current etag of the resource.",
      );
  };
  const setState = (request: Msg, state: StoredVersion["state"]): Msg => {
    const { secret, version } = findVersion(request.name);
    checkEtag(request.etag, version.etag);
    if (version.state === "DESTROYED")
      throw new RpcError(
        S.FAILED_PRECONDITION,
        `Secret Version [${secretName(secret)}/versions/${version.number}] is in DESTROYED state.`,
      );
    version.state = state;
    if (state === "DESTROYED") {
      version.destroyTime = new Date();
      delete version.data;
    }
    version.etag = newEtag();
    return versionMessage(secret, version);
  };
  const page = <T>(items: T[], request: Msg): { items: T[]; nextPageToken: string; totalSize: number } => {
    const size = Number(request.pageSize ?? 0);
    if (!Number.isInteger(size) || size < 0)
      throw new RpcError(S.INVALID_ARGUMENT, "page_size must not be negative.");
    const limit = size === 0 ? 25_000 : Math.min(size, 25_000);
    const filter = String(request.filter ?? "");
    let offset = 0;
    if (request.pageToken) {
      const token = Buffer.from(String(request.pageToken), "base64url").toString("utf8");
      const [at, digest] = token.split(":");
      if (digest !== createHash("sha1").update(filter).digest("hex").slice(0, 12) || !/^\d+$/.test(at ?? ""))
        throw new RpcError(S.INVALID_ARGUMENT, "Invalid page token.");
      offset = Number(at);
    }
    const end = offset + limit;
    const nextPageToken =
      end < items.length
        ? Buffer.from(`${end}:${createHash("sha1").update(filter).digest("hex").slice(0, 12)}`).toString(
            "base64url",
          )
        : "";
    return { items: items.slice(offset, end), nextPageToken, totalSize: items.length };
  };

  const handlers: Record<string, (request: Msg) => Msg> = {
    CreateSecret(request) {
      const project = parseParent(request.parent);
      const id = String(request.secretId ?? "");
      if (!SECRET_ID.test(id))
        throw new RpcError(
          S.INVALID_ARGUMENT,
          `Secret id [${id}] must be 1-255 characters of [a-zA-Z0-9_-].`,
        );
      if (secrets.has(`${project}/${id}`))
        throw new RpcError(S.ALREADY_EXISTS, `Secret [projects/${project}/secrets/${id}] already exists.`);
      const input = (request.secret ?? {}) as Msg;
      const { name: _name, createTime: _created, labels, annotations, etag: _etag, ...fields } = input;
      const secret: StoredSecret = {
        id,
        project,
        createTime: new Date(),
        fields: { replication: { automatic: {} }, ...fields },
        labels: checkLabels(labels),
        annotations: checkAnnotations(annotations),
        etag: newEtag(),
        versions: [],
      };
      secrets.set(`${project}/${id}`, secret);
      return secretMessage(secret);
    },
    GetSecret: (request) => secretMessage(findSecret(request.name)),
    UpdateSecret(request) {
      const input = (request.secret ?? {}) as Msg;
      const secret = findSecret(input.name);
      const paths = ((request.updateMask as Msg | undefined)?.paths ?? []) as string[];
      if (paths.length === 0) throw new RpcError(S.INVALID_ARGUMENT, "update_mask must be specified.");
      for (const path of paths)
        if (!UPDATABLE.has(path))
          throw new RpcError(S.INVALID_ARGUMENT, `Invalid update_mask path [${path}].`);
      checkEtag(input.etag, secret.etag);
      const labels = paths.includes("labels") ? checkLabels(input.labels) : secret.labels;
      const annotations = paths.includes("annotations")
        ? checkAnnotations(input.annotations)
        : secret.annotations;
      for (const path of paths) {
        const field = path.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
        if (field !== "labels" && field !== "annotations") secret.fields[field] = input[field];
      }
      secret.labels = labels;
      secret.annotations = annotations;
      secret.etag = newEtag();
      return secretMessage(secret);
    },
    DeleteSecret(request) {
      const secret = findSecret(request.name);
      checkEtag(request.etag, secret.etag);
      secrets.delete(`${secret.project}/${secret.id}`);
      return {};
    },
    ListSecrets(request) {
      const project = parseParent(request.parent);
      const match = compileFilter(String(request.filter ?? ""), "secret");
      const matching = [...secrets.values()]
        .filter((secret) => secret.project === project)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .filter((secret) =>
          match({ name: secretName(secret), labels: secret.labels, createTime: secret.createTime }),
        );
      const { items, nextPageToken, totalSize } = page(matching, request);
      return { secrets: items.map(secretMessage), nextPageToken, totalSize };
    },
    AddSecretVersion(request) {
      const secret = findSecret(request.parent);
      const payload = (request.payload ?? {}) as Msg;
      const data = Buffer.from((payload.data as Uint8Array | undefined) ?? []);
      // Google treats an empty payload as a missing one.
      if (data.byteLength === 0) throw new RpcError(S.INVALID_ARGUMENT, "Field [payload] is required.");
      if (data.byteLength > MAX_PAYLOAD)
        throw new RpcError(S.INVALID_ARGUMENT, "Secret Payload cannot be larger than 64KiB.");
      const checksum = crc32c(data);
      const given = payload.dataCrc32c;
      if (given !== undefined && given !== null && Number(given) !== checksum)
        throw new RpcError(
          S.INVALID_ARGUMENT,
          "Checksum mismatch: the data_crc32c given does not match the payload.",
        );
      const version: StoredVersion = {
        number: (secret.versions.at(-1)?.number ?? 0) + 1,
        createTime: new Date(),
        state: "ENABLED",
        data,
        crc32c: checksum,
        clientChecksum: given !== undefined && given !== null,
        etag: newEtag(),
      };
      secret.versions.push(version);
      return versionMessage(secret, version);
    },
    GetSecretVersion(request) {
      const { secret, version } = findVersion(request.name);
      return versionMessage(secret, version);
    },
    AccessSecretVersion(request) {
      const { secret, version } = findVersion(request.name);
      const name = `${secretName(secret)}/versions/${version.number}`;
      if (version.state !== "ENABLED" || version.data === undefined)
        throw new RpcError(S.FAILED_PRECONDITION, `Secret Version [${name}] is in ${version.state} state.`);
      return { name, payload: { data: version.data, dataCrc32c: String(version.crc32c) } };
    },
    ListSecretVersions(request) {
      const secret = findSecret(request.parent);
      const match = compileFilter(String(request.filter ?? ""), "version");
      const matching = [...secret.versions].reverse().filter((version) =>
        match({
          name: `${secretName(secret)}/versions/${version.number}`,
          labels: {},
          createTime: version.createTime,
          state: version.state,
        }),
      );
      const { items, nextPageToken, totalSize } = page(matching, request);
      return { versions: items.map((version) => versionMessage(secret, version)), nextPageToken, totalSize };
    },
    DisableSecretVersion: (request) => setState(request, "DISABLED"),
    EnableSecretVersion: (request) => setState(request, "ENABLED"),
    DestroySecretVersion: (request) => setState(request, "DESTROYED"),
  };

  const sockets = new Set<Socket>();
  const allowed = (method: string): boolean => {
    if (iam.roles === undefined) return true;
    const permission = PERMISSION[method];
    if (permission === undefined) return true;
    return iam.roles.some((role) => {
      const granted = ROLES[role] ?? [];
      return granted.includes("*") || granted.includes(permission);
    });
  };
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of Object.keys(service)) {
    const handler = handlers[method];
    implementation[method] = async (
      call: grpc.ServerUnaryCall<Msg, Msg>,
      callback: grpc.sendUnaryData<Msg>,
    ) => {
      const request = call.request;
      const entry: GcpRequestLogEntry = {
        method,
        resource: String(
          request.name ??
            request.parent ??
            (request.secret as Msg | undefined)?.name ??
            request.resource ??
            "",
        ),
      };
      if (typeof request.filter === "string" && request.filter !== "") entry.filter = request.filter;
      requests.push(entry);
      const answer = (error: RpcError | undefined, response?: Msg): void => {
        entry.code = error ? error.code : S.OK;
        if (error) callback({ code: error.code, details: error.message, metadata: new grpc.Metadata() });
        else callback(null, response);
      };
      if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
      if (drops > 0) {
        drops -= 1;
        for (const socket of sockets) socket.destroy();
        return;
      }
      if (failures !== undefined && failures.count > 0) {
        failures.count -= 1;
        const code = failures.code;
        return answer(new RpcError(code, failures.message ?? `Injected ${grpc.status[code]}.`));
      }
      if (!allowed(method)) {
        const permission = `secretmanager.${PERMISSION[method] ?? method}`;
        return answer(
          new RpcError(
            S.PERMISSION_DENIED,
            `Permission '${permission}' denied for resource '${entry.resource}' (or it may not exist).`,
          ),
        );
      }
      if (handler === undefined)
        return answer(new RpcError(S.UNIMPLEMENTED, `Method ${method} is not implemented by this emulator.`));
      try {
        answer(undefined, handler(request));
      } catch (error) {
        answer(
          error instanceof RpcError
            ? error
            : new RpcError(S.INTERNAL, `Internal error: ${(error as Error).message}`),
        );
      }
    };
  }

  const server = new grpc.Server();
  server.addService(service, implementation);
  const innerPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
  // A plain TCP relay in front of the gRPC server, so a "dropped call" can cut the connection itself.
  const relay: NetServer = createServer((client) => {
    const upstream = new Socket();
    // Without this, Nagle's algorithm and delayed ACKs add ~40 ms to every call through the relay.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client);
    client.on("close", () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on("close", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    upstream.connect(innerPort, "127.0.0.1", () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => relay.listen(options.port ?? 0, "127.0.0.1", resolve));
  const address = relay.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    host: "127.0.0.1",
    port,
    faults,
    iam,
    requests,
    projectNumber,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.forceShutdown();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  };
}

interface Filterable {
  name: string;
  labels: Labels;
  createTime: Date;
  state?: string;
}
type Predicate = (item: Filterable) => boolean;

/**
 * The list filter language of Secret Manager (a subset of AIP-160): `field:value` (has: substring,
 * `*` wildcard, `:*` present), `=`, `!=`, `<`, `<=`, `>`, `>=`, `AND` (or a space), `OR` (binding
 * tighter than AND), `NOT` or `-`, parentheses, quoted values. Fields: `name`, `labels.<key>`,
 * `create_time`, and `state` for versions. Anything else is INVALID_ARGUMENT.
 */
function compileFilter(filter: string, kind: "secret" | "version"): Predicate {
  const tokens = filter.match(/"(?:[^"\\]|\\.)*"|\(|\)|[^\s()"]+(?:"(?:[^"\\]|\\.)*")?/g) ?? [];
  let at = 0;
  const invalid = (): never => {
    throw new RpcError(S.INVALID_ARGUMENT, `Invalid filter [${filter}].`);
  };
  const unquote = (text: string): string =>
    text.startsWith('"') && text.endsWith('"') && text.length >= 2
      ? text.slice(1, -1).replace(/\\(.)/g, "$1")
      : text;
  const glob = (pattern: string): RegExp =>
    new RegExp(
      pattern
        .split("*")
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*"),
    );

  const restriction = (token: string): Predicate => {
    const match = /^([A-Za-z_][\w.-]*)(<=|>=|!=|=|:|<|>)(.*)$/s.exec(token);
    if (!match) return invalid();
    const [, field = "", op = "", rawValue = ""] = match;
    const value = unquote(
      rawValue === "" && tokens[at]?.startsWith('"') ? (tokens[at++] as string) : rawValue,
    );
    const compare = (actual: string | undefined): boolean => {
      if (op === ":") return actual !== undefined && (value === "*" || glob(value).test(actual));
      if (actual === undefined) return op === "!=";
      if (op === "=") return actual === value;
      if (op === "!=") return actual !== value;
      return invalid();
    };
    if (field === "name")
      return (item) => compare(item.name) || (op === "=" && item.name.endsWith(`/${value}`));
    if (field.startsWith("labels.") && field.length > 7) {
      const key = field.slice(7);
      return (item) => compare(item.labels[key]);
    }
    if (field === "state" && kind === "version") return (item) => compare(item.state);
    if (field === "create_time") {
      const when = Date.parse(value);
      if (Number.isNaN(when)) return invalid();
      return (item) => {
        const time = item.createTime.getTime();
        if (op === "<") return time < when;
        if (op === "<=") return time <= when;
        if (op === ">") return time > when;
        if (op === ">=") return time >= when;
        if (op === "=") return time === when;
        if (op === "!=") return time !== when;
        return invalid();
      };
    }
    return invalid();
  };
  const term = (): Predicate => {
    const token = tokens[at++];
    if (token === undefined) return invalid();
    if (token === "NOT") {
      const inner = term();
      return (item) => !inner(item);
    }
    if (token.startsWith("-") && token.length > 1) {
      const inner = restriction(token.slice(1));
      return (item) => !inner(item);
    }
    if (token === "(") {
      const inner = expression();
      if (tokens[at++] !== ")") return invalid();
      return inner;
    }
    return restriction(token);
  };
  const factor = (): Predicate => {
    const parts = [term()];
    while (tokens[at] === "OR") {
      at += 1;
      parts.push(term());
    }
    return (item) => parts.some((part) => part(item));
  };
  const expression = (): Predicate => {
    const parts = [factor()];
    while (at < tokens.length && tokens[at] !== ")") {
      if (tokens[at] === "AND") at += 1;
      parts.push(factor());
    }
    return (item) => parts.every((part) => part(item));
  };
  if (tokens.length === 0) return () => true;
  const predicate = expression();
  if (at !== tokens.length) return invalid();
  return predicate;
}
