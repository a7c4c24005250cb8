import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ElasticsearchEmulator, startElasticsearchEmulator } from "../../src/emulators/elasticsearch.ts";

// Fidelity against the documented REST API of Elasticsearch 9, over plain fetch,
// so the wire shapes are checked independently of any client.
let es: ElasticsearchEmulator;
let counter = 0;
const freshIndex = () => `fidelity-${++counter}`;

interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are read field by field in assertions
  body: any;
}

async function call(method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(es.url + path, {
    method,
    headers: { "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? undefined : JSON.parse(text),
  };
}

beforeAll(async () => {
  es = await startElasticsearchEmulator({ refreshIntervalMs: -1 });
});
afterAll(async () => {
  await es.close();
});
afterEach(() => es.faults.reset());

describe("elasticsearch emulator: indices", () => {
  it("HEAD answers 404 for a missing index and 200 once it is created", async () => {
    const index = freshIndex();
    expect((await call("HEAD", `/${index}`)).status).toBe(404);
    const created = await call("PUT", `/${index}`, {
      mappings: { properties: { key: { type: "keyword" } } },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ acknowledged: true, shards_acknowledged: true, index });
    expect((await call("HEAD", `/${index}`)).status).toBe(200);
  });

  it("creating an existing index fails with resource_already_exists_exception", async () => {
    const index = freshIndex();
    await call("PUT", `/${index}`, {});
    const again = await call("PUT", `/${index}`, {});
    expect(again.status).toBe(400);
    expect(again.body.error.type).toBe("resource_already_exists_exception");
    expect(again.body.error.root_cause[0].type).toBe("resource_already_exists_exception");
    expect(again.body.status).toBe(400);
  });

  it("returns the mapping it was given", async () => {
    const index = freshIndex();
    const mappings = {
      dynamic: "strict",
      properties: { key: { type: "keyword" }, tags: { type: "flattened" } },
    };
    await call("PUT", `/${index}`, { mappings });
    const got = await call("GET", `/${index}/_mapping`);
    expect(got.body).toEqual({ [index]: { mappings } });
  });

  it("rejects an invalid index name", async () => {
    const reply = await call("PUT", "/Upper", {});
    expect(reply.status).toBe(400);
    expect(reply.body.error.type).toBe("invalid_index_name_exception");
  });

  it("a missing index is index_not_found_exception with status 404", async () => {
    const reply = await call("GET", "/nowhere/_doc/1");
    expect(reply.status).toBe(404);
    expect(reply.body.error).toMatchObject({
      type: "index_not_found_exception",
      reason: "no such index [nowhere]",
    });
  });

  it("sends x-elastic-product: Elasticsearch on every response, errors and faults included", async () => {
    expect((await call("GET", "/")).headers.get("x-elastic-product")).toBe("Elasticsearch");
    expect((await call("GET", "/nowhere/_doc/1")).headers.get("x-elastic-product")).toBe("Elasticsearch");
    es.faults.failNext(1, 503);
    const fault = await call("GET", "/");
    expect(fault.status).toBe(503);
    expect(fault.headers.get("x-elastic-product")).toBe("Elasticsearch");
    expect(fault.body.error.root_cause).toHaveLength(1);
  });
});

describe("elasticsearch emulator: documents", () => {
  it("indexes a document: 201 created, then 200 updated with a higher version and seq_no", async () => {
    const index = freshIndex();
    const first = await call("PUT", `/${index}/_doc/a%2Fb`, { key: "v1" });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      _index: index,
      _id: "a/b",
      _version: 1,
      result: "created",
      _primary_term: 1,
    });
    const second = await call("PUT", `/${index}/_doc/a%2Fb`, { key: "v2" });
    expect(second.status).toBe(200);
    expect(second.body.result).toBe("updated");
    expect(second.body._version).toBe(2);
    expect(second.body._seq_no).toBeGreaterThan(first.body._seq_no);
  });

  it("gets a document realtime, and a miss is 404 {found:false}", async () => {
    const index = freshIndex();
    await call("PUT", `/${index}/_doc/x`, { key: "x" });
    const got = await call("GET", `/${index}/_doc/x`);
    expect(got.body).toMatchObject({ _id: "x", found: true, _source: { key: "x" }, _version: 1, _seq_no: 0 });
    const missing = await call("GET", `/${index}/_doc/y`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ _index: index, _id: "y", found: false });
  });

  it("_mget returns each document realtime, found:false for a miss, with _source filtering", async () => {
    const index = freshIndex();
    await call("PUT", `/${index}/_doc/a`, { key: "a", secret: "x" });
    const reply = await call("POST", `/${index}/_mget?_source_excludes=secret`, { ids: ["a", "b"] });
    expect(reply.status).toBe(200);
    expect(reply.body.docs).toEqual([
      {
        _index: index,
        _id: "a",
        _version: 1,
        _seq_no: 0,
        _primary_term: 1,
        found: true,
        _source: { key: "a" },
      },
      { _index: index, _id: "b", found: false },
    ]);
    expect((await call("POST", `/${index}/_mget`, { ids: [] })).status).toBe(400);
  });

  it("op_type=create and _create refuse an existing id with version_conflict_engine_exception", async () => {
    const index = freshIndex();
    await call("PUT", `/${index}/_create/x`, { key: "x" });
    for (const path of [`/${index}/_create/x`, `/${index}/_doc/x?op_type=create`]) {
      const reply = await call("PUT", path, { key: "again" });
      expect(reply.status).toBe(409);
      expect(reply.body.error.type).toBe("version_conflict_engine_exception");
      expect(reply.body.error.reason).toBe(
        "[x]: version conflict, document already exists (current version [1])",
      );
      expect(reply.body.error.root_cause[0]).toMatchObject({
        type: "version_conflict_engine_exception",
        index,
      });
    }
  });

  it("if_seq_no/if_primary_term: the current pair writes, a stale one is a 409", async () => {
    const index = freshIndex();
    const first = await call("PUT", `/${index}/_doc/x`, { key: "1" });
    const ok = await call("PUT", `/${index}/_doc/x?if_seq_no=${first.body._seq_no}&if_primary_term=1`, {
      key: "2",
    });
    expect(ok.status).toBe(200);
    const stale = await call("PUT", `/${index}/_doc/x?if_seq_no=${first.body._seq_no}&if_primary_term=1`, {
      key: "3",
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.reason).toBe(
      `[x]: version conflict, required seqNo [${first.body._seq_no}], primary term [1]. current document has seqNo [${ok.body._seq_no}] and primary term [1]`,
    );
    expect((await call("GET", `/${index}/_doc/x`)).body._source).toEqual({ key: "2" });
  });

  it("if_seq_no on a missing document is a 409 saying no document was found", async () => {
    const index = freshIndex();
    await call("PUT", `/${index}`, {});
    const reply = await call("PUT", `/${index}/_doc/x?if_seq_no=0&if_primary_term=1`, { key: "1" });
    expect(reply.status).toBe(409);
    expect(reply.body.error.reason).toContain("but no document was found");
  });

  it("refuses an id longer than 512 bytes", async () => {
    const index = freshIndex();
    const reply = await call("PUT", `/${index}/_doc/${"x".repeat(513)}`, { key: "1" });
    expect(reply.status).toBe(400);
    expect(reply.body.error.type).toBe("action_request_validation_exception");
  });

  it("a strict mapping rejects an unknown field", async () => {
    const index = freshIndex();
    await call("PUT", `/${index}`, {
      mappings: { dynamic: "strict", properties: { key: { type: "keyword" } } },
    });
    const reply = await call("PUT", `/${index}/_doc/x`, { key: "1", other: "2" });
    expect(reply.status).toBe(400);
    expect(reply.body.error.type).toBe("strict_dynamic_mapping_exception");
  });

  it("deletes: 200 deleted, then 404 not_found; the version continues after a re-create", async () => {
    const index = freshIndex();
    await call("PUT", `/${index}/_doc/x`, { key: "1" });
    const deleted = await call("DELETE", `/${index}/_doc/x`);
    expect(deleted.body).toMatchObject({ result: "deleted", _version: 2 });
    const again = await call("DELETE", `/${index}/_doc/x`);
    expect(again.status).toBe(404);
    expect(again.body.result).toBe("not_found");
    const recreated = await call("PUT", `/${index}/_doc/x`, { key: "1" });
    expect(recreated.body).toMatchObject({ result: "created", _version: 4 });
  });
});

describe("elasticsearch emulator: search", () => {
  const seed = async (index: string) => {
    await call("PUT", `/${index}`, {
      mappings: {
        properties: {
          key: { type: "keyword" },
          tenant: { type: "keyword" },
          tags: { type: "flattened" },
          note: { type: "text" },
        },
      },
    });
    const docs = [
      { id: "c", key: "c", tenant: "acme", tags: { app: "billing", "team.name": "ops" } },
      { id: "a", key: "a", tags: { app: "billing" } },
      { id: "b", key: "b", tenant: "acme", tags: { app: "other" } },
      { id: "d", key: "d", note: "Hello World" },
    ];
    for (const { id, ...source } of docs) await call("PUT", `/${index}/_doc/${id}`, source);
  };

  it("search sees writes only after a refresh; get is realtime", async () => {
    const index = freshIndex();
    await call("PUT", `/${index}/_doc/x`, { key: "x" });
    expect((await call("POST", `/${index}/_search`, {})).body.hits.total.value).toBe(0);
    await call("POST", `/${index}/_refresh`);
    expect((await call("POST", `/${index}/_search`, {})).body.hits.total).toEqual({
      value: 1,
      relation: "eq",
    });
    await call("PUT", `/${index}/_doc/y?refresh=wait_for`, { key: "y" });
    expect((await call("POST", `/${index}/_search`, {})).body.hits.total.value).toBe(2);
  });

  it("filters with term, terms, exists and bool (filter, must, must_not)", async () => {
    const index = freshIndex();
    await seed(index);
    await call("POST", `/${index}/_refresh`);
    const ids = async (query: unknown) =>
      (await call("POST", `/${index}/_search`, { query, sort: [{ key: "asc" }] })).body.hits.hits.map(
        (hit: { _id: string }) => hit._id,
      );
    expect(await ids({ term: { tenant: "acme" } })).toEqual(["b", "c"]);
    expect(await ids({ terms: { key: ["a", "d"] } })).toEqual(["a", "d"]);
    expect(await ids({ term: { "tags.app": { value: "billing" } } })).toEqual(["a", "c"]);
    expect(await ids({ term: { "tags.team.name": "ops" } })).toEqual(["c"]);
    expect(await ids({ bool: { must_not: [{ exists: { field: "tenant" } }] } })).toEqual(["a", "d"]);
    expect(
      await ids({
        bool: { filter: [{ term: { tenant: "acme" } }], must: { term: { "tags.app": "other" } } },
      }),
    ).toEqual(["b"]);
    expect(await ids({ term: { note: "hello" } })).toEqual(["d"]);
    expect(await ids({ match_all: {} })).toEqual(["a", "b", "c", "d"]);
  });

  it("pages with size, sort and search_after, returning sort values", async () => {
    const index = freshIndex();
    await seed(index);
    await call("POST", `/${index}/_refresh`);
    const first = await call("POST", `/${index}/_search`, { size: 3, sort: [{ key: { order: "desc" } }] });
    expect(first.body.hits.hits.map((hit: { sort: unknown[] }) => hit.sort)).toEqual([["d"], ["c"], ["b"]]);
    expect(first.body.hits.hits[0]._score).toBeNull();
    const next = await call("POST", `/${index}/_search`, {
      size: 3,
      sort: [{ key: "desc" }],
      search_after: ["b"],
    });
    expect(next.body.hits.hits.map((hit: { _id: string }) => hit._id)).toEqual(["a"]);
  });

  it("refuses to sort on _id or on a text field, and an unknown query", async () => {
    const index = freshIndex();
    await seed(index);
    for (const body of [{ sort: ["_id"] }, { sort: [{ note: "asc" }] }, { query: { fuzzy_thing: {} } }]) {
      const reply = await call("POST", `/${index}/_search`, body);
      expect(reply.status).toBe(400);
      expect(reply.body.error.root_cause).toHaveLength(1);
    }
  });

  it("filters _source and returns _seq_no/_primary_term when asked", async () => {
    const index = freshIndex();
    await seed(index);
    await call("POST", `/${index}/_refresh`);
    const reply = await call("POST", `/${index}/_search`, {
      query: { term: { key: "c" } },
      _source: { excludes: ["tags"] },
      seq_no_primary_term: true,
    });
    const [hit] = reply.body.hits.hits;
    expect(hit._source).toEqual({ key: "c", tenant: "acme" });
    expect(hit._seq_no).toBe(0);
    expect(hit._primary_term).toBe(1);
  });
});

describe("elasticsearch emulator: security and faults", () => {
  it("with auth configured, a request without credentials is 401 security_exception", async () => {
    const secured = await startElasticsearchEmulator({ auth: { username: "elastic", password: "changeme" } });
    try {
      const anonymous = await fetch(`${secured.url}/`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toContain("Basic");
      expect(((await anonymous.json()) as { error: { type: string } }).error.type).toBe("security_exception");
      const basic = `Basic ${Buffer.from("elastic:changeme").toString("base64")}`;
      expect((await fetch(`${secured.url}/`, { headers: { authorization: basic } })).status).toBe(200);
    } finally {
      await secured.close();
    }
  });

  it("a read-only identity gets 403 on writes", async () => {
    const secured = await startElasticsearchEmulator({ auth: { apiKey: "k", readOnly: true } });
    try {
      const reply = await fetch(`${secured.url}/idx/_doc/1`, {
        method: "PUT",
        headers: { authorization: "ApiKey k", "content-type": "application/json" },
        body: "{}",
      });
      expect(reply.status).toBe(403);
    } finally {
      await secured.close();
    }
  });

  it("injects failures and logs requests", async () => {
    es.faults.failNext(2, 429);
    expect((await call("GET", "/")).body.error.type).toBe("es_rejected_execution_exception");
    expect((await call("GET", "/")).status).toBe(429);
    expect((await call("GET", "/")).status).toBe(200);
    expect(es.requests.at(-1)).toMatchObject({ method: "GET", path: "/" });
  });
});
