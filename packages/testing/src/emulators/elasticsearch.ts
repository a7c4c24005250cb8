import { randomBytes, timingSafeEqual } from "node:crypto";
import { type EmulatorRequest, type EmulatorResponse, type HttpEmulator, startHttpEmulator } from "./http.ts";

/** Options of {@link startElasticsearchEmulator}. */
export interface ElasticsearchEmulatorOptions {
  /**
   * Credentials every request must carry (`Authorization: ApiKey ...` or `Basic ...`);
   * without them, requests are anonymous and allowed. `readOnly` makes writes fail with 403.
   * @default undefined (no security)
   */
  auth?: { apiKey?: string; username?: string; password?: string; readOnly?: boolean };
  /**
   * How often an index refreshes, as `index.refresh_interval` does: a search sees a write
   * once this much time has passed (or after a refresh). `-1` never refreshes on its own.
   * @default 1000
   */
  refreshIntervalMs?: number;
  /** @default 0 (a random free port) */
  port?: number;
}

/** A running Elasticsearch emulator. */
export interface ElasticsearchEmulator extends HttpEmulator {
  /** The `_source` of a document as stored (realtime), for assertions; `undefined` when absent. */
  source(index: string, id: string): JsonObject | undefined;
  /** Names of the existing indices. */
  indexNames(): string[];
}

/** A JSON object, as documents, mappings and request bodies are. */
export type JsonObject = Record<string, unknown>;

interface Doc {
  source: JsonObject;
  version: number;
  seqNo: number;
}

interface Index {
  name: string;
  uuid: string;
  mappings: JsonObject;
  /** What search sees: the documents as of the last refresh. */
  searchable: Map<string, JsonObject>;
  settings: JsonObject;
  live: Map<string, Doc>;
  /** Versions of deleted documents (ES keeps them as tombstones). */
  tombstones: Map<string, number>;
  seqNo: number;
  lastRefresh: number;
}

const PRIMARY_TERM = 1;
const MAX_ID_BYTES = 512;
const INVALID_INDEX_CHARS = /[\\/*?"<>| ,#:]/;
const SHARDS = { total: 2, successful: 1, failed: 0 };

/** An error the emulator answers with, shaped `{error:{root_cause,type,reason,...},status}`. */
class EsError extends Error {
  readonly status: number;
  readonly type: string;
  readonly extra: JsonObject;
  constructor(status: number, type: string, reason: string, extra: JsonObject = {}) {
    super(reason);
    this.status = status;
    this.type = type;
    this.extra = extra;
  }
}

/** The error body Elasticsearch sends for a status and a reason. */
export function elasticsearchErrorBody(
  status: number,
  type: string,
  reason: string,
  extra: JsonObject = {},
): JsonObject {
  const cause = { type, reason, ...extra };
  return { error: { root_cause: [cause], ...cause }, status };
}

const GENERIC_ERRORS: Record<number, [string, string]> = {
  400: ["illegal_argument_exception", "bad request"],
  401: ["security_exception", "missing authentication credentials for REST request"],
  403: ["security_exception", "action is unauthorized for user"],
  404: ["resource_not_found_exception", "not found"],
  409: ["version_conflict_engine_exception", "version conflict"],
  429: ["es_rejected_execution_exception", "rejected execution of coordinating operation"],
  500: ["exception", "internal error"],
  503: ["cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"],
};

/**
 * Starts an in-memory Elasticsearch 9 speaking the REST protocol the official client
 * uses: indices (create, HEAD, get, mapping, delete, refresh), documents (`_doc`,
 * `_create`, `op_type`, `if_seq_no`/`if_primary_term`, `refresh`, `_mget`), and `_search`/`_count`
 * with `term`, `terms`, `ids`, `prefix`, `exists`, `bool`, `match_all`, sort,
 * `search_after`, `from`/`size` and `_source` filtering. Every response carries
 * `x-elastic-product: Elasticsearch`, which the client requires.
 *
 * Gets are realtime; searches see the documents as of the last refresh, which happens
 * on `_refresh`, on a write with `refresh=true` or `refresh=wait_for` (at once, where a
 * real cluster would wait for its next scheduled refresh), and on a search once
 * `refreshIntervalMs` has passed since the last one. One shard, primary term 1.
 *
 * @example
 * const es = await startElasticsearchEmulator();
 * const client = new Client({ node: es.url });
 */
export async function startElasticsearchEmulator(
  options: ElasticsearchEmulatorOptions = {},
): Promise<ElasticsearchEmulator> {
  const indices = new Map<string, Index>();
  const refreshInterval = options.refreshIntervalMs ?? 1000;

  const refresh = (index: Index): void => {
    index.searchable = new Map([...index.live].map(([id, doc]) => [id, doc.source]));
    index.lastRefresh = Date.now();
  };
  const newIndex = (name: string, mappings: JsonObject, settings: JsonObject): Index => {
    const index: Index = {
      name,
      uuid: randomBytes(16).toString("base64url").slice(0, 22),
      mappings,
      settings,
      live: new Map(),
      searchable: new Map(),
      tombstones: new Map(),
      seqNo: -1,
      lastRefresh: Date.now(),
    };
    indices.set(name, index);
    return index;
  };
  const requireIndex = (name: string): Index => {
    const index = indices.get(name);
    if (index === undefined) {
      throw new EsError(404, "index_not_found_exception", `no such index [${name}]`, {
        "resource.type": "index_or_alias",
        "resource.id": name,
        index_uuid: "_na_",
        index: name,
      });
    }
    return index;
  };
  const shardInfo = (index: Index): JsonObject => ({ index_uuid: index.uuid, shard: "0", index: index.name });

  function handle(request: EmulatorRequest): EmulatorResponse {
    checkAuth(request, options.auth);
    const parts = request.rawPath.split("/").slice(1).map(decodeURIComponent);
    const [first = "", second, third, ...more] = parts;
    const method = request.method;
    const query = request.url.searchParams;
    if (first === "" && parts.length === 1 && (method === "GET" || method === "HEAD"))
      return { status: 200, body: method === "HEAD" ? undefined : clusterInfo() };
    if (first === "_refresh" && second === undefined) {
      for (const index of indices.values()) refresh(index);
      return ok({ _shards: { total: indices.size * 2, successful: indices.size, failed: 0 } });
    }
    if (more.length > 0) throw unknownRoute(request);
    if (second === undefined) return indexRoute(method, first, request);
    if (second === "_mapping" && third === undefined && method === "GET") {
      const index = requireIndex(first);
      return ok({ [index.name]: { mappings: index.mappings } });
    }
    if (second === "_refresh" && third === undefined && (method === "POST" || method === "GET")) {
      refresh(requireIndex(first));
      return ok({ _shards: { total: 2, successful: 1, failed: 0 } });
    }
    if ((second === "_search" || second === "_count") && third === undefined) {
      if (method !== "GET" && method !== "POST") throw unknownRoute(request);
      return search(requireIndex(first), request, second === "_count");
    }
    if (second === "_mget" && third === undefined) {
      if (method !== "GET" && method !== "POST") throw unknownRoute(request);
      return multiGet(requireIndex(first), request);
    }
    if (second === "_doc" && third === undefined && method === "POST") {
      return write(first, randomBytes(15).toString("base64url").slice(0, 20), request, "create");
    }
    if ((second === "_doc" || second === "_create") && third !== undefined) {
      if (second === "_create") {
        if (method !== "PUT" && method !== "POST") throw unknownRoute(request);
        return write(first, third, request, "create");
      }
      if (method === "PUT" || method === "POST") {
        const opType = query.get("op_type") ?? "index";
        if (opType !== "index" && opType !== "create") {
          throw new EsError(
            400,
            "illegal_argument_exception",
            `opType must be 'create' or 'index', found: [${opType}]`,
          );
        }
        return write(first, third, request, opType);
      }
      if (method === "GET" || method === "HEAD") return getDoc(first, third, request);
      if (method === "DELETE") return deleteDoc(first, third, request);
    }
    throw unknownRoute(request);
  }

  function indexRoute(method: string, name: string, request: EmulatorRequest): EmulatorResponse {
    if (method === "HEAD") return { status: indices.has(name) ? 200 : 404 };
    if (method === "PUT") {
      validateIndexName(name);
      const existing = indices.get(name);
      if (existing !== undefined) {
        throw new EsError(
          400,
          "resource_already_exists_exception",
          `index [${name}/${existing.uuid}] already exists`,
          { index_uuid: existing.uuid, index: name },
        );
      }
      const body = request.json<JsonObject>() ?? {};
      const mappings = (body.mappings as JsonObject | undefined) ?? {};
      newIndex(name, structuredClone(mappings), (body.settings as JsonObject | undefined) ?? {});
      return ok({ acknowledged: true, shards_acknowledged: true, index: name });
    }
    if (method === "GET") {
      const index = requireIndex(name);
      return ok({ [name]: { aliases: {}, mappings: index.mappings, settings: { index: index.settings } } });
    }
    if (method === "DELETE") {
      requireIndex(name);
      indices.delete(name);
      return ok({ acknowledged: true });
    }
    throw unknownRoute(request);
  }

  function write(name: string, id: string, request: EmulatorRequest, opType: string): EmulatorResponse {
    denyReadOnly("indices:data/write/index");
    const query = request.url.searchParams;
    const ifSeqNo = query.get("if_seq_no");
    const ifPrimaryTerm = query.get("if_primary_term");
    const problems: string[] = [];
    if (Buffer.byteLength(id, "utf8") > MAX_ID_BYTES) {
      problems.push(
        `id [${id}] is too long, must be no longer than ${MAX_ID_BYTES} bytes but was: ${Buffer.byteLength(id, "utf8")}`,
      );
    }
    if (opType === "create" && (ifSeqNo !== null || ifPrimaryTerm !== null)) {
      problems.push("create operations do not support compare and set. use index instead");
    }
    if (ifSeqNo !== null && (ifPrimaryTerm === null || Number(ifPrimaryTerm) <= 0)) {
      problems.push(`ifSeqNo is set, but primary term is [${ifPrimaryTerm ?? 0}]`);
    }
    if (problems.length > 0) throw validationFailed(problems);
    let source: unknown;
    try {
      source = request.json();
    } catch {
      throw new EsError(400, "document_parsing_exception", "[1:1] failed to parse");
    }
    if (source === undefined) throw validationFailed(["source is missing"]);
    if (typeof source !== "object" || source === null || Array.isArray(source)) {
      throw new EsError(
        400,
        "document_parsing_exception",
        "[1:1] failed to parse: the document is not an object",
      );
    }
    validateIndexName(name);
    const index = indices.get(name) ?? newIndex(name, {}, {});
    checkMapping(index, source as JsonObject, id);
    const current = index.live.get(id);
    if (opType === "create" && current !== undefined) {
      throw new EsError(
        409,
        "version_conflict_engine_exception",
        `[${id}]: version conflict, document already exists (current version [${current.version}])`,
        shardInfo(index),
      );
    }
    if (ifSeqNo !== null) checkSeqNo(index, id, current, Number(ifSeqNo), Number(ifPrimaryTerm));
    index.seqNo += 1;
    const version = (current?.version ?? index.tombstones.get(id) ?? 0) + 1;
    index.tombstones.delete(id);
    index.live.set(id, { source: source as JsonObject, version, seqNo: index.seqNo });
    const forced = afterWrite(index, request);
    return {
      status: current === undefined ? 201 : 200,
      body: {
        _index: name,
        _id: id,
        _version: version,
        result: current === undefined ? "created" : "updated",
        ...(forced && { forced_refresh: true }),
        _shards: SHARDS,
        _seq_no: index.seqNo,
        _primary_term: PRIMARY_TERM,
      },
    };
  }

  function checkSeqNo(index: Index, id: string, current: Doc | undefined, seqNo: number, term: number): void {
    if (current === undefined) {
      throw new EsError(
        409,
        "version_conflict_engine_exception",
        `[${id}]: version conflict, required seqNo [${seqNo}], primary term [${term}]. but no document was found`,
        shardInfo(index),
      );
    }
    if (current.seqNo !== seqNo || term !== PRIMARY_TERM) {
      throw new EsError(
        409,
        "version_conflict_engine_exception",
        `[${id}]: version conflict, required seqNo [${seqNo}], primary term [${term}]. current document has seqNo [${current.seqNo}] and primary term [${PRIMARY_TERM}]`,
        shardInfo(index),
      );
    }
  }

  /** Applies the `refresh` parameter; true when the write forced a refresh. */
  function afterWrite(index: Index, request: EmulatorRequest): boolean {
    const policy = request.url.searchParams.get("refresh");
    if (policy === null || policy === "false") return false;
    if (policy !== "" && policy !== "true" && policy !== "wait_for") {
      throw new EsError(400, "illegal_argument_exception", `Unknown value for refresh: [${policy}].`);
    }
    refresh(index);
    return policy !== "wait_for";
  }

  function getDoc(name: string, id: string, request: EmulatorRequest): EmulatorResponse {
    const index = requireIndex(name);
    const doc = index.live.get(id);
    if (request.method === "HEAD") return { status: doc === undefined ? 404 : 200 };
    const body = docBody(index, id, sourceFilterOf(request.url.searchParams));
    return { status: doc === undefined ? 404 : 200, body };
  }

  /** A document as `GET _doc` and `_mget` show it (realtime). */
  function docBody(index: Index, id: string, filter: unknown): JsonObject {
    const doc = index.live.get(id);
    if (doc === undefined) return { _index: index.name, _id: id, found: false };
    const source = filterSource(doc.source, filter);
    return {
      _index: index.name,
      _id: id,
      _version: doc.version,
      _seq_no: doc.seqNo,
      _primary_term: PRIMARY_TERM,
      found: true,
      ...(source !== undefined && { _source: source }),
    };
  }

  function multiGet(index: Index, request: EmulatorRequest): EmulatorResponse {
    const body = request.json<{ ids?: unknown; docs?: unknown }>() ?? {};
    const filter = sourceFilterOf(request.url.searchParams);
    let ids: string[];
    if (Array.isArray(body.ids)) ids = body.ids.map(String);
    else if (Array.isArray(body.docs)) ids = body.docs.map((doc) => String((doc as { _id?: unknown })._id));
    else throw validationFailed(["no documents to get"]);
    if (ids.length === 0) throw validationFailed(["no documents to get"]);
    return ok({ docs: ids.map((id) => docBody(index, id, filter)) });
  }

  function deleteDoc(name: string, id: string, request: EmulatorRequest): EmulatorResponse {
    denyReadOnly("indices:data/write/delete");
    const index = requireIndex(name);
    const query = request.url.searchParams;
    const current = index.live.get(id);
    const ifSeqNo = query.get("if_seq_no");
    if (ifSeqNo !== null)
      checkSeqNo(index, id, current, Number(ifSeqNo), Number(query.get("if_primary_term")));
    index.seqNo += 1;
    const version = (current?.version ?? index.tombstones.get(id) ?? 0) + 1;
    index.live.delete(id);
    index.tombstones.set(id, version);
    afterWrite(index, request);
    return {
      status: current === undefined ? 404 : 200,
      body: {
        _index: name,
        _id: id,
        _version: version,
        result: current === undefined ? "not_found" : "deleted",
        _shards: SHARDS,
        _seq_no: index.seqNo,
        _primary_term: PRIMARY_TERM,
      },
    };
  }

  function search(index: Index, request: EmulatorRequest, count: boolean): EmulatorResponse {
    if (refreshInterval >= 0 && Date.now() - index.lastRefresh >= refreshInterval) refresh(index);
    const body = request.json<JsonObject>() ?? {};
    const size = request.url.searchParams.get("size");
    if (size !== null && body.size === undefined) body.size = Number(size);
    try {
      const result = runSearch(index, body, count);
      if (count)
        return ok({ count: result.total, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } });
      const hits = result.hits.map((hit) => {
        const doc = index.live.get(hit.id);
        return {
          _index: index.name,
          _id: hit.id,
          _score: hit.sort === undefined ? 1 : null,
          ...(body.version === true && { _version: doc?.version }),
          ...(body.seq_no_primary_term === true && { _seq_no: doc?.seqNo, _primary_term: PRIMARY_TERM }),
          ...(hit.source !== undefined && { _source: hit.source }),
          ...(hit.sort !== undefined && { sort: hit.sort }),
        };
      });
      return ok({
        took: 1,
        timed_out: false,
        _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
        hits: {
          total: { value: result.total, relation: "eq" },
          max_score: hits.length > 0 && result.sorted ? null : hits.length > 0 ? 1 : null,
          hits,
        },
      });
    } catch (error) {
      if (error instanceof SearchError) throw new EsError(400, error.type, error.message);
      throw error;
    }
  }

  function denyReadOnly(action: string): void {
    if (options.auth?.readOnly) {
      const user = options.auth.username ?? "api_key";
      throw new EsError(
        403,
        "security_exception",
        `action [${action}] is unauthorized for user [${user}] with effective roles [reader]`,
      );
    }
  }

  const emulator = await startHttpEmulator(
    (request) => {
      try {
        return handle(request);
      } catch (error) {
        if (!(error instanceof EsError)) throw error;
        const headers: Record<string, string> =
          error.status === 401
            ? { "www-authenticate": 'Basic realm="security", charset="UTF-8", ApiKey' }
            : {};
        return {
          status: error.status,
          headers,
          body: elasticsearchErrorBody(error.status, error.type, error.message, error.extra),
        };
      }
    },
    {
      headers: { "x-elastic-product": "Elasticsearch" },
      port: options.port,
      errorBody: (status) => {
        const [type, reason] = GENERIC_ERRORS[status] ?? ["exception", `status ${status}`];
        return elasticsearchErrorBody(status, type, reason);
      },
    },
  );
  return Object.assign(emulator, {
    source: (index: string, id: string) => indices.get(index)?.live.get(id)?.source,
    indexNames: () => [...indices.keys()],
  });
}

/** The `_source`, `_source_includes` and `_source_excludes` parameters as a filter. */
function sourceFilterOf(query: URLSearchParams): unknown {
  const list = (key: string) =>
    query
      .get(key)
      ?.split(",")
      .filter((field) => field !== "");
  const sourceParam = query.get("_source");
  if (sourceParam === "false") return false;
  return {
    includes:
      list("_source_includes") ??
      (sourceParam === null || sourceParam === "true" ? undefined : list("_source")),
    excludes: list("_source_excludes"),
  };
}

function ok(body: JsonObject): EmulatorResponse {
  return { status: 200, body };
}

function unknownRoute(request: EmulatorRequest): EsError {
  return new EsError(
    405,
    "illegal_argument_exception",
    `Incorrect HTTP method for uri [${request.rawPath}] and method [${request.method}]`,
  );
}

function validationFailed(problems: string[]): EsError {
  return new EsError(
    400,
    "action_request_validation_exception",
    `Validation Failed: ${problems.map((problem, i) => `${i + 1}: ${problem};`).join("")}`,
  );
}

function validateIndexName(name: string): void {
  const problem =
    name !== name.toLowerCase()
      ? "must be lowercase"
      : INVALID_INDEX_CHARS.test(name)
        ? 'must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]'
        : /^[-_+]/.test(name)
          ? "must not start with '_', '-', or '+'"
          : name === "." || name === ".." || name === ""
            ? "must not be '.' or '..'"
            : Buffer.byteLength(name) > 255
              ? "index name is too long"
              : undefined;
  if (problem !== undefined) {
    throw new EsError(400, "invalid_index_name_exception", `Invalid index name [${name}], ${problem}`, {
      index_uuid: "_na_",
      index: name,
    });
  }
}

/** Rejects fields a strict mapping lacks, and adds dynamic fields the way ES would. */
function checkMapping(index: Index, source: JsonObject, id: string): void {
  const walk = (mapping: JsonObject, object: JsonObject, path: string): void => {
    const properties = (mapping.properties ?? {}) as Record<string, JsonObject>;
    for (const [field, value] of Object.entries(object)) {
      const full = path === "" ? field : `${path}.${field}`;
      const known = properties[field];
      if (known === undefined) {
        if (mapping.dynamic === "strict" || mapping.dynamic === "false" || mapping.dynamic === false) {
          if (mapping.dynamic === "strict") {
            throw new EsError(
              400,
              "strict_dynamic_mapping_exception",
              `[1:2] mapping set to strict, dynamic introduction of [${field}] within [${path === "" ? "_doc" : path}] is not allowed`,
            );
          }
          continue;
        }
        mapping.properties = { ...properties, [field]: dynamicType(value) };
        continue;
      }
      const type = (known.type as string | undefined) ?? "object";
      const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
      if (type === "object" && known.enabled !== false) {
        if (!isObject && value !== null) {
          throw new EsError(
            400,
            "document_parsing_exception",
            `[1:2] object mapping for [${full}] tried to parse field [${field}] as object, but found a concrete value`,
          );
        }
        if (isObject) walk(known, value as JsonObject, full);
      } else if (isObject && type !== "flattened" && type !== "object") {
        throw new EsError(
          400,
          "document_parsing_exception",
          `[1:2] failed to parse field [${full}] of type [${type}] in document with id '${id}'.`,
        );
      }
    }
  };
  walk(index.mappings, source, "");
}

function dynamicType(value: unknown): JsonObject {
  if (typeof value === "boolean") return { type: "boolean" };
  if (typeof value === "number") return { type: Number.isInteger(value) ? "long" : "float" };
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return {
      properties: Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, dynamicType(inner)])),
    };
  }
  return { type: "text", fields: { keyword: { type: "keyword", ignore_above: 256 } } };
}

function checkAuth(request: EmulatorRequest, auth: ElasticsearchEmulatorOptions["auth"]): void {
  if (auth === undefined) return;
  const header = request.headers.authorization;
  if (header === undefined) {
    throw new EsError(
      401,
      "security_exception",
      `missing authentication credentials for REST request [${request.rawPath}]`,
    );
  }
  const same = (a: string, b: string) =>
    a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const [scheme = "", token = ""] = header.split(" ", 2);
  if (scheme === "ApiKey" && auth.apiKey !== undefined && same(token, auth.apiKey)) return;
  if (scheme === "Basic" && auth.username !== undefined) {
    const expected = Buffer.from(`${auth.username}:${auth.password ?? ""}`).toString("base64");
    if (same(token, expected)) return;
  }
  throw new EsError(
    401,
    "security_exception",
    `unable to authenticate with provided credentials and anonymous access is not allowed for this request`,
  );
}

function clusterInfo(): JsonObject {
  return {
    name: "strongbox-emulator",
    cluster_name: "strongbox",
    cluster_uuid: "emulated",
    version: { number: "9.1.0", build_flavor: "default", lucene_version: "10.2.2" },
    tagline: "You Know, for Search",
  };
}

// ---- search: the query DSL subset, sorting and paging -------------------------------

class SearchError extends Error {
  readonly type: string;
  constructor(type: string, reason: string) {
    super(reason);
    this.type = type;
  }
}

interface Hit {
  id: string;
  source: JsonObject | undefined;
  sort: unknown[] | undefined;
}

type SortSpec = { field: string; order: "asc" | "desc"; missing: "_last" | "_first" };

function runSearch(
  index: Index,
  body: JsonObject,
  countOnly: boolean,
): { total: number; hits: Hit[]; sorted: boolean } {
  const query = (body.query as JsonObject | undefined) ?? { match_all: {} };
  const matcher = compileQuery(query, index);
  const matching = [...index.searchable].filter(([id, source]) => matcher(id, source));
  if (countOnly) return { total: matching.length, hits: [], sorted: false };
  const size = body.size === undefined ? 10 : Number(body.size);
  const from = body.from === undefined ? 0 : Number(body.from);
  if (!Number.isInteger(size) || size < 0)
    throw new SearchError(
      "illegal_argument_exception",
      `[size] parameter cannot be negative, found [${String(body.size)}]`,
    );
  if (from + size > 10_000) {
    throw new SearchError(
      "illegal_argument_exception",
      `Result window is too large, from + size must be less than or equal to: [10000] but was [${from + size}].`,
    );
  }
  const sorts = parseSort(body.sort, index);
  const keyed = matching.map(([id, source]) => ({
    id,
    source,
    sort: sorts?.map((spec) => sortValue(source, spec, index)),
  }));
  if (sorts !== undefined) keyed.sort((a, b) => compareTuples(a.sort ?? [], b.sort ?? [], sorts));
  let window = keyed;
  if (body.search_after !== undefined) {
    const after = body.search_after;
    if (sorts === undefined)
      throw new SearchError("illegal_argument_exception", "Sort must contain at least one field.");
    if (!Array.isArray(after) || after.length !== sorts.length) {
      throw new SearchError(
        "illegal_argument_exception",
        `search_after has ${Array.isArray(after) ? after.length : 0} value(s) but sort has ${sorts.length}.`,
      );
    }
    if (from > 0)
      throw new SearchError(
        "illegal_argument_exception",
        "`from` parameter must be set to 0 when `search_after` is used.",
      );
    window = keyed.filter((hit) => compareTuples(hit.sort ?? [], after, sorts) > 0);
  }
  const page = window.slice(from, from + size);
  return {
    total: matching.length,
    sorted: sorts !== undefined,
    hits: page.map((hit) => ({ id: hit.id, source: filterSource(hit.source, body._source), sort: hit.sort })),
  };
}

function compileQuery(query: JsonObject, index: Index): (id: string, source: JsonObject) => boolean {
  const entries = Object.entries(query);
  const [entry] = entries;
  if (entry === undefined || entries.length > 1) {
    throw new SearchError("parsing_exception", "[_na] query malformed, must start with start_object");
  }
  const [kind, spec] = entry as [string, JsonObject];
  const fieldSpec = (): [string, unknown] => {
    const pairs = Object.entries(spec ?? {}).filter(([key]) => key !== "boost" && key !== "_name");
    const [pair] = pairs;
    if (pair === undefined || pairs.length > 1)
      throw new SearchError("parsing_exception", `[${kind}] query doesn't support multiple fields`);
    return pair;
  };
  switch (kind) {
    case "match_all":
      return () => true;
    case "match_none":
      return () => false;
    case "term": {
      const [field, raw] = fieldSpec();
      const value = typeof raw === "object" && raw !== null ? (raw as JsonObject).value : raw;
      return (_id, source) =>
        fieldValues(source, field, index).some((candidate) => termMatches(candidate, value, field, index));
    }
    case "terms": {
      const [field, values] = fieldSpec();
      if (!Array.isArray(values))
        throw new SearchError("parsing_exception", `[terms] query does not support [${field}]`);
      return (_id, source) =>
        fieldValues(source, field, index).some((candidate) =>
          values.some((value) => termMatches(candidate, value, field, index)),
        );
    }
    case "prefix": {
      const [field, raw] = fieldSpec();
      const value = String(typeof raw === "object" && raw !== null ? (raw as JsonObject).value : raw);
      return (_id, source) =>
        fieldValues(source, field, index).some((candidate) => String(candidate).startsWith(value));
    }
    case "ids": {
      const values = (spec.values ?? []) as unknown[];
      return (id) => values.includes(id);
    }
    case "exists": {
      const field = spec.field;
      if (typeof field !== "string")
        throw new SearchError("parsing_exception", "[exists] must be provided with a [field]");
      return (_id, source) => fieldValues(source, field, index).some((value) => value !== null);
    }
    case "bool": {
      const clauses = (name: string) => {
        const raw = spec[name];
        if (raw === undefined) return [];
        return (Array.isArray(raw) ? raw : [raw]).map((clause) => compileQuery(clause as JsonObject, index));
      };
      const must = [...clauses("must"), ...clauses("filter")];
      const mustNot = clauses("must_not");
      const should = clauses("should");
      const minimumShould =
        spec.minimum_should_match !== undefined
          ? Number(spec.minimum_should_match)
          : must.length > 0
            ? 0
            : should.length > 0
              ? 1
              : 0;
      return (id, source) =>
        must.every((test) => test(id, source)) &&
        !mustNot.some((test) => test(id, source)) &&
        should.filter((test) => test(id, source)).length >= minimumShould;
    }
    default:
      throw new SearchError("parsing_exception", `unknown query [${kind}]`);
  }
}

/** The mapping of a dotted field path, if any (a path inside a `flattened` field maps to it). */
function mappingOf(field: string, index: Index): JsonObject | undefined {
  let mapping: JsonObject | undefined = index.mappings;
  const segments = field.split(".");
  for (let i = 0; i < segments.length; i++) {
    const properties = mapping?.properties as Record<string, JsonObject> | undefined;
    // A field name may itself hold dots: try the longest names first.
    let found: JsonObject | undefined;
    for (let j = segments.length; j > i; j--) {
      const candidate = properties?.[segments.slice(i, j).join(".")];
      if (candidate !== undefined) {
        found = candidate;
        i = j - 1;
        break;
      }
    }
    if (found === undefined) return undefined;
    if (found.type === "flattened") return found;
    mapping = found;
  }
  return mapping;
}

/** Every leaf value of a document at a dotted path (`a.b` finds `{a:{b:1}}` and `{"a.b":1}`). */
function fieldValues(source: JsonObject, field: string, index: Index): unknown[] {
  if (field.endsWith(".keyword")) {
    const base = field.slice(0, -".keyword".length);
    if ((mappingOf(base, index)?.fields as JsonObject | undefined)?.keyword !== undefined) field = base;
  }
  const out: unknown[] = [];
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, path);
      return;
    }
    if (typeof value === "object" && value !== null) {
      for (const [key, inner] of Object.entries(value)) visit(inner, path === "" ? key : `${path}.${key}`);
      return;
    }
    if (path === field) out.push(value);
  };
  visit(source, "");
  return out;
}

function termMatches(candidate: unknown, value: unknown, field: string, index: Index): boolean {
  if (candidate === null || value === null || value === undefined) return false;
  if (mappingOf(field, index)?.type === "text") {
    return String(candidate)
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .includes(String(value));
  }
  if (typeof candidate === "number" || typeof value === "number") return Number(candidate) === Number(value);
  return String(candidate) === String(value);
}

function parseSort(raw: unknown, index: Index): SortSpec[] | undefined {
  if (raw === undefined) return undefined;
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((item): SortSpec => {
    let field: string;
    let order: "asc" | "desc" = "asc";
    let missing: "_last" | "_first" = "_last";
    if (typeof item === "string") field = item;
    else {
      const [pair] = Object.entries(item as JsonObject);
      if (pair === undefined) throw new SearchError("parsing_exception", "malformed sort");
      field = pair[0];
      const spec = pair[1];
      if (typeof spec === "string") order = spec as "asc" | "desc";
      else if (typeof spec === "object" && spec !== null) {
        const options = spec as JsonObject;
        if (options.order !== undefined) order = options.order as "asc" | "desc";
        if (options.missing !== undefined) missing = options.missing as "_last" | "_first";
      }
    }
    if (field === "_id") {
      throw new SearchError(
        "illegal_argument_exception",
        "Fielddata access on the _id field is disallowed, you can re-enable it by updating the dynamic cluster setting: indices.id_field_data.enabled",
      );
    }
    const type = mappingOf(field, index)?.type;
    if (type === "text") {
      throw new SearchError(
        "illegal_argument_exception",
        `Fielddata is disabled on [${field}] in [${index.name}]. Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead.`,
      );
    }
    if (order !== "asc" && order !== "desc")
      throw new SearchError("illegal_argument_exception", `Unknown SortOrder [${String(order)}]`);
    return { field, order, missing };
  });
}

function sortValue(source: JsonObject, spec: SortSpec, index: Index): unknown {
  const values = fieldValues(source, spec.field, index).filter((value) => value !== null);
  if (values.length === 0) return null;
  const type = mappingOf(spec.field, index)?.type;
  const converted = values.map((value) => (type === "date" ? Date.parse(String(value)) : value));
  converted.sort((a, b) => compareValues(a, b));
  return spec.order === "asc" ? converted[0] : converted[converted.length - 1];
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  // Keywords sort by their UTF-8 bytes, as Lucene does.
  return Buffer.compare(Buffer.from(String(a), "utf8"), Buffer.from(String(b), "utf8"));
}

function compareTuples(a: readonly unknown[], b: readonly unknown[], sorts: SortSpec[]): number {
  for (const [i, spec] of sorts.entries()) {
    const left = a[i] ?? null;
    const right = b[i] ?? null;
    if (left === null || right === null) {
      if (left === right) continue;
      const missingFirst = spec.missing === "_first";
      return (left === null) === missingFirst ? -1 : 1;
    }
    const order = compareValues(left, right);
    if (order !== 0) return spec.order === "asc" ? order : -order;
  }
  return 0;
}

/** Applies `_source` filtering: `false`, a field list, or `{ includes, excludes }` (exact paths and their children). */
function filterSource(source: JsonObject, filter: unknown): JsonObject | undefined {
  if (filter === undefined || filter === true) return source;
  if (filter === false) return undefined;
  let includes: string[] | undefined;
  let excludes: string[] = [];
  if (typeof filter === "string") includes = [filter];
  else if (Array.isArray(filter)) includes = filter.map(String);
  else if (typeof filter === "object" && filter !== null) {
    const spec = filter as { includes?: unknown; excludes?: unknown };
    if (spec.includes !== undefined) includes = ([] as unknown[]).concat(spec.includes).map(String);
    if (spec.excludes !== undefined) excludes = ([] as unknown[]).concat(spec.excludes).map(String);
  }
  const under = (path: string, patterns: string[]) =>
    patterns.some((pattern) => path === pattern || path.startsWith(`${pattern}.`));
  const above = (path: string, patterns: string[]) =>
    patterns.some((pattern) => pattern.startsWith(`${path}.`));
  const copy = (object: JsonObject, path: string): JsonObject => {
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(object)) {
      const full = path === "" ? key : `${path}.${key}`;
      if (under(full, excludes)) continue;
      const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
      if (includes === undefined || includes.length === 0 || under(full, includes)) {
        out[key] = isObject ? copy(value as JsonObject, full) : value;
      } else if (isObject && above(full, includes)) {
        out[key] = copy(value as JsonObject, full);
      }
    }
    return out;
  };
  return copy(source, "");
}
