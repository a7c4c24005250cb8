import { randomBytes } from "node:crypto";
import { type EmulatorRequest, type EmulatorResponse, type HttpEmulator, startHttpEmulator } from "./http.ts";

/** A vault as the Connect API shows it. */
export interface ConnectVault {
  id: string;
  name: string;
  description?: string;
  attributeVersion: number;
  contentVersion: number;
  items: number;
  type: string;
  createdAt: string;
  updatedAt: string;
}

/** An item as the Connect API stores it (a FullItem). */
export interface ConnectItem {
  id: string;
  title: string;
  vault: { id: string };
  category: string;
  tags?: string[];
  version: number;
  favorite?: boolean;
  trashed?: boolean;
  urls?: unknown[];
  sections?: { id: string; label?: string }[];
  fields?: {
    id: string;
    type?: string;
    purpose?: string;
    label?: string;
    value?: string;
    section?: { id: string };
  }[];
  createdAt: string;
  updatedAt: string;
  lastEditedBy?: string;
}

/** Options of {@link startOnePasswordEmulator}. */
export interface OnePasswordEmulatorOptions {
  /** The access token that may read and write every vault. @default "connect-test-token" */
  token?: string;
  /** A token that may read but not write (writes answer 403). @default none */
  readOnlyToken?: string;
  /** Vault names to create at start. @default ["Strongbox"] */
  vaults?: string[];
}

/** A running 1Password Connect emulator. */
export interface OnePasswordEmulator extends HttpEmulator {
  /** The full-access token. */
  readonly token: string;
  /** The vaults, in creation order. */
  readonly vaults: ConnectVault[];
  /** The items of a vault (the stored objects: changing them changes the emulator's state). */
  items(vaultId: string): ConnectItem[];
}

const ITEM_CATEGORIES = new Set([
  "LOGIN",
  "PASSWORD",
  "SERVER",
  "DATABASE",
  "CREDIT_CARD",
  "MEMBERSHIP",
  "PASSPORT",
  "SOFTWARE_LICENSE",
  "OUTDOOR_LICENSE",
  "SECURE_NOTE",
  "WIRELESS_ROUTER",
  "BANK_ACCOUNT",
  "DRIVER_LICENSE",
  "IDENTITY",
  "REWARD_PROGRAM",
  "DOCUMENT",
  "EMAIL_ACCOUNT",
  "SOCIAL_SECURITY_NUMBER",
  "API_CREDENTIAL",
  "CUSTOM",
]);

/** A Connect UUID: 26 lowercase letters and digits. */
function newId(): string {
  let id = "";
  while (id.length < 26) id += randomBytes(16).readBigUInt64BE().toString(36);
  return id.slice(0, 26);
}

const error = (status: number, message: string): EmulatorResponse => ({ status, body: { status, message } });

/**
 * A SCIM-style filter as Connect accepts it: `title eq "x"`, `title co "x"`, `tag eq "x"`
 * (vaults: `name eq "x"`, and `title eq` as the SDK sends). The value is a JSON string.
 */
function parseFilter(text: string): { attribute: string; op: "eq" | "co"; value: string } | undefined {
  const match = /^\s*(\w+)\s+(eq|co)\s+("(?:[^"\\]|\\.)*")\s*$/i.exec(text);
  if (!match) return undefined;
  try {
    const value = JSON.parse(match[3] as string) as string;
    return {
      attribute: (match[1] as string).toLowerCase(),
      op: (match[2] as string).toLowerCase() as "eq" | "co",
      value,
    };
  } catch {
    return undefined;
  }
}

const compare = (op: "eq" | "co", actual: string, wanted: string): boolean =>
  op === "eq" ? actual === wanted : actual.includes(wanted);

function summary(item: ConnectItem): Omit<ConnectItem, "fields" | "sections"> {
  const { fields: _fields, sections: _sections, ...rest } = item;
  return structuredClone(rest);
}

/**
 * Starts an in-memory 1Password Connect server (API v1) on 127.0.0.1: vaults, items
 * (list with `title eq`/`title co`/`tag eq` filters, get, create, replace, delete),
 * item versions bumped on every replace, the bearer token check, and errors as
 * `{status, message}` with the documented codes.
 *
 * @example
 * const emulator = await startOnePasswordEmulator();
 * const client = OnePasswordConnect({ serverURL: emulator.url, token: emulator.token, keepAlive: false });
 */
export async function startOnePasswordEmulator(
  options: OnePasswordEmulatorOptions = {},
): Promise<OnePasswordEmulator> {
  const token = options.token ?? "connect-test-token";
  const now = (): string => new Date().toISOString();
  const vaults: ConnectVault[] = (options.vaults ?? ["Strongbox"]).map((name) => ({
    id: newId(),
    name,
    attributeVersion: 1,
    contentVersion: 1,
    items: 0,
    type: "USER_CREATED",
    createdAt: now(),
    updatedAt: now(),
  }));
  const items = new Map<string, ConnectItem[]>(vaults.map((vault) => [vault.id, []]));

  const validateItem = (body: unknown, vaultId: string): ConnectItem | string => {
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return "Invalid item: expected an object";
    const item = body as Partial<ConnectItem>;
    if (typeof item.category !== "string" || !ITEM_CATEGORIES.has(item.category))
      return "Invalid item category";
    if (item.vault !== undefined && item.vault.id !== vaultId)
      return "Invalid Vault UUID: does not match the URL";
    if (item.title !== undefined && typeof item.title !== "string") return "Invalid item title";
    if (
      item.tags !== undefined &&
      (!Array.isArray(item.tags) || item.tags.some((tag) => typeof tag !== "string"))
    )
      return "Invalid item tags";
    if (item.fields !== undefined && !Array.isArray(item.fields)) return "Invalid item fields";
    return item as ConnectItem;
  };

  const normalise = (item: ConnectItem): void => {
    item.sections = (item.sections ?? []).map((section) => ({ ...section, id: section.id || newId() }));
    item.fields = (item.fields ?? []).map((field) => ({
      ...field,
      id: field.id || newId(),
      type: field.type ?? "STRING",
    }));
    item.tags = item.tags ?? [];
  };

  async function handle(request: EmulatorRequest): Promise<EmulatorResponse> {
    const auth = request.headers.authorization ?? "";
    const bearer = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined;
    if (bearer !== token && (options.readOnlyToken === undefined || bearer !== options.readOnlyToken)) {
      return error(401, "Invalid token signature");
    }
    const canWrite = bearer === token;
    const parts = request.rawPath
      .split("/")
      .filter((part) => part !== "")
      .map(decodeURIComponent);
    if (parts[0] !== "v1" || parts[1] !== "vaults") return error(404, "Not found");
    const filterText = request.url.searchParams.get("filter");
    const filter = filterText === null ? undefined : parseFilter(filterText);
    if (filterText !== null && filter === undefined) return error(400, "Invalid filter query");

    if (parts.length === 2) {
      if (request.method !== "GET") return error(405, "Method not allowed");
      if (filter && !["name", "title"].includes(filter.attribute)) return error(400, "Invalid filter query");
      return {
        status: 200,
        body: vaults
          .filter((vault) => !filter || compare(filter.op, vault.name, filter.value))
          .map((vault) => ({ ...vault, items: items.get(vault.id)?.length ?? 0 })),
      };
    }
    const vault = vaults.find((candidate) => candidate.id === parts[2]);
    if (vault === undefined) return error(404, "Vault not found");
    const stored = items.get(vault.id) as ConnectItem[];
    if (parts.length === 3) {
      if (request.method !== "GET") return error(405, "Method not allowed");
      return { status: 200, body: { ...vault, items: stored.length } };
    }
    if (parts[3] !== "items" || parts.length > 5) return error(404, "Not found");
    const itemId = parts[4];

    if (itemId === undefined) {
      if (request.method === "GET") {
        if (filter && !["title", "tag"].includes(filter.attribute)) return error(400, "Invalid filter query");
        const matching = stored.filter((item) => {
          if (!filter) return true;
          if (filter.attribute === "title") return compare(filter.op, item.title, filter.value);
          return (item.tags ?? []).some((tag) => compare(filter.op, tag, filter.value));
        });
        return { status: 200, body: matching.map(summary) };
      }
      if (request.method === "POST") {
        if (!canWrite) return error(403, "Authorization: unauthorized access");
        const checked = validateItem(request.json(), vault.id);
        if (typeof checked === "string") return error(400, checked);
        const item: ConnectItem = {
          ...structuredClone(checked),
          id: newId(),
          title: checked.title ?? "",
          vault: { id: vault.id },
          version: 1,
          createdAt: now(),
          updatedAt: now(),
        };
        normalise(item);
        stored.push(item);
        vault.contentVersion += 1;
        return { status: 200, body: item };
      }
      return error(405, "Method not allowed");
    }

    const index = stored.findIndex((item) => item.id === itemId);
    if (index < 0) return error(404, "Item not found");
    const current = stored[index] as ConnectItem;
    switch (request.method) {
      case "GET":
        return { status: 200, body: current };
      case "PUT": {
        if (!canWrite) return error(403, "Authorization: unauthorized access");
        const checked = validateItem(request.json(), vault.id);
        if (typeof checked === "string") return error(400, checked);
        if (checked.id !== undefined && checked.id !== itemId)
          return error(400, "Invalid item: ID does not match the URL");
        const item: ConnectItem = {
          ...structuredClone(checked),
          id: itemId,
          title: checked.title ?? "",
          vault: { id: vault.id },
          version: current.version + 1,
          createdAt: current.createdAt,
          updatedAt: now(),
        };
        normalise(item);
        stored[index] = item;
        vault.contentVersion += 1;
        return { status: 200, body: item };
      }
      case "DELETE":
        if (!canWrite) return error(403, "Authorization: unauthorized access");
        stored.splice(index, 1);
        vault.contentVersion += 1;
        return { status: 204 };
      default:
        return error(405, "Method not allowed");
    }
  }

  const server = await startHttpEmulator(handle, {
    errorBody: (status) => ({ status, message: status >= 500 ? "Internal server error" : "Injected error" }),
  });
  return {
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    faults: server.faults,
    requests: server.requests,
    close: () => server.close(),
    token,
    vaults,
    items: (vaultId) => items.get(vaultId) ?? [],
  };
}
