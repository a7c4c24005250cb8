import { randomBytes } from "node:crypto";
import { Client } from "@elastic/elasticsearch";
import {
  createSecretManager,
  isStrongboxError,
  parseYamlConfig,
  refId,
  type SecretBackend,
  type SecretEntry,
  type SecretRef,
} from "@strongbox/core";
import { renderings, testBackend } from "@strongbox/testing";
import {
  type ElasticsearchEmulator,
  elasticsearchErrorBody,
  startElasticsearchEmulator,
} from "@strongbox/testing/emulators/elasticsearch";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { documentId, type ElasticsearchBackend, elasticsearch, fromConfig } from "../src/index.ts";

const SECRET = "a-test-encryption-key-of-32-chars-at-least";
const OTHER_SECRET = "another-encryption-key-with-32-chars-or-more";

let es: ElasticsearchEmulator;
let raw: Client;
let counter = 0;
const freshIndex = () => `strongbox-test-${++counter}`;

beforeAll(async () => {
  es = await startElasticsearchEmulator();
  raw = new Client({ node: es.url, maxRetries: 0 });
});
afterAll(async () => {
  await raw.close();
  await es.close();
});
afterEach(() => es.faults.reset());

testBackend("elasticsearch (emulator)", () =>
  elasticsearch({ node: es.url, secret: SECRET, index: "strongbox-conformance", retryDelay: 1 }),
);
// Writes without waiting for a refresh: `list` sees them within the emulator's 1 s refresh interval.
testBackend(
  "elasticsearch with refresh false (emulator)",
  () => elasticsearch({ node: es.url, secret: SECRET, index: "strongbox-eventual", refresh: false }),
  { eventualList: true },
);
testBackend("elasticsearch with a prefix (emulator)", () =>
  elasticsearch({ node: es.url, secret: SECRET, index: "strongbox-conformance", prefix: "billing" }),
);

const liveUrl = process.env.STRONGBOX_IT_ELASTICSEARCH_URL;
describe.runIf(liveUrl)(
  "elasticsearch (live: runs when STRONGBOX_IT_ELASTICSEARCH_URL is set, with _API_KEY or _USERNAME/_PASSWORD)",
  () => {
    const env = process.env;
    const auth = env.STRONGBOX_IT_ELASTICSEARCH_API_KEY
      ? { apiKey: env.STRONGBOX_IT_ELASTICSEARCH_API_KEY }
      : env.STRONGBOX_IT_ELASTICSEARCH_USERNAME
        ? {
            username: env.STRONGBOX_IT_ELASTICSEARCH_USERNAME,
            password: env.STRONGBOX_IT_ELASTICSEARCH_PASSWORD ?? "",
          }
        : undefined;
    testBackend("elasticsearch (live)", () =>
      elasticsearch({
        node: liveUrl as string,
        secret: env.STRONGBOX_IT_ELASTICSEARCH_SECRET ?? SECRET,
        index: env.STRONGBOX_IT_ELASTICSEARCH_INDEX ?? "strongbox-it",
        ...(auth && { auth }),
      }),
    );
  },
);

const backendOn = (
  index: string,
  extra: Partial<Parameters<typeof elasticsearch>[0]> = {},
): ElasticsearchBackend => elasticsearch({ node: es.url, secret: SECRET, index, retryDelay: 1, ...extra });

const must = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error("expected a value");
  return value;
};

const listAll = async (backend: SecretBackend, query?: Parameters<NonNullable<SecretBackend["list"]>>[0]) => {
  const out: SecretEntry[] = [];
  for await (const entry of must(backend.list)(query)) out.push(entry);
  return out;
};

describe("elasticsearch: index and mapping", () => {
  it("makes no network call before the first operation", () => {
    const before = es.requests.length;
    backendOn(freshIndex());
    expect(es.requests.length).toBe(before);
  });

  it("creates its index with keyword ref fields, flattened tags and an unindexed envelope", async () => {
    const index = freshIndex();
    await backendOn(index).get({ key: "anything" });
    const mapping = await raw.indices.getMapping({ index });
    const properties = mapping[index]?.mappings.properties ?? {};
    for (const field of ["prefix", "tenant", "namespace", "key", "doc_id"])
      expect(properties[field]?.type).toBe("keyword");
    expect(properties.tags?.type).toBe("flattened");
    expect(properties.envelope).toMatchObject({ type: "keyword", index: false });
    expect(mapping[index]?.mappings.dynamic).toBe("strict");
  });

  it("refuses an existing index whose mapping does not fit, naming the field", async () => {
    const index = freshIndex();
    await raw.indices.create({ index, mappings: { properties: { key: { type: "text" } } } });
    const error = await backendOn(index)
      .get({ key: "x" })
      .catch((caught: unknown) => caught);
    expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
    expect((error as Error).message).toContain('field "key" is "text", expected "keyword"');
    expect((error as Error).message).toContain(index);
  });

  it("uses an existing index created by another instance", async () => {
    const index = freshIndex();
    await backendOn(index).put?.({ key: "shared" }, "one");
    const second = backendOn(index);
    expect((await second.get({ key: "shared" }))?.value.reveal()).toBe("one");
  });

  it("with createIndex false, a missing index is a clear BACKEND error", async () => {
    const error = await backendOn(freshIndex(), { createIndex: false })
      .get({ key: "x" })
      .catch((caught: unknown) => caught);
    expect(isStrongboxError(error, "BACKEND")).toBe(true);
    expect((error as Error).message).toContain("does not exist");
  });
});

describe("elasticsearch: encryption", () => {
  it("stores the value only as an envelope, beside the exact ref", async () => {
    const index = freshIndex();
    const ref = { tenant: "acme", namespace: "billing.db", key: "PASSWORD" };
    await backendOn(index, { prefix: "app" }).put?.(ref, "plain-text-value", { description: "db" });
    const source = es.source(index, documentId("app", ref));
    expect(source).toMatchObject({ prefix: "app", ...ref, description: "db" });
    expect(String(source?.envelope)).toMatch(/^v1:/);
    expect(JSON.stringify(source)).not.toContain("plain-text-value");
  });

  it("a document's envelope moved onto another document fails with DECRYPT_FAILED", async () => {
    const index = freshIndex();
    const backend = backendOn(index);
    const from: SecretRef = { key: "SOURCE" };
    const to: SecretRef = { key: "TARGET" };
    await backend.put?.(from, "moved-value");
    await backend.put?.(to, "target-value");
    const target = await raw.get<Record<string, unknown>>({ index, id: documentId(undefined, to) });
    const envelope = es.source(index, documentId(undefined, from))?.envelope;
    await raw.index({
      index,
      id: documentId(undefined, to),
      document: { ...target._source, envelope },
      refresh: true,
    });
    await expect(backend.get(to)).rejects.toSatisfy((error) => isStrongboxError(error, "DECRYPT_FAILED"));
  });

  it("a value copied under another prefix fails with DECRYPT_FAILED", async () => {
    const index = freshIndex();
    const ref = { key: "TOKEN" };
    await backendOn(index, { prefix: "one" }).put?.(ref, "prefixed-value");
    await backendOn(index, { prefix: "two" }).put?.(ref, "other-value");
    const source = es.source(index, documentId("two", ref));
    await raw.index({
      index,
      id: documentId("two", ref),
      document: { ...source, envelope: es.source(index, documentId("one", ref))?.envelope },
    });
    await expect(backendOn(index, { prefix: "two" }).get(ref)).rejects.toSatisfy((error) =>
      isStrongboxError(error, "DECRYPT_FAILED"),
    );
  });

  it("a wrong key fails with DECRYPT_FAILED and says the key is wrong, without the key", async () => {
    const index = freshIndex();
    await backendOn(index).put?.({ key: "K" }, "value");
    const error = await backendOn(index, { secret: OTHER_SECRET })
      .get({ key: "K" })
      .catch((caught: unknown) => caught);
    expect(isStrongboxError(error, "DECRYPT_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(/wrong or removed key/);
    for (const text of renderings(error)) {
      expect(text).not.toContain(OTHER_SECRET);
      expect(text).not.toContain(SECRET);
    }
  });

  it("rotates: with [new, old], old values still read and new writes use the new key", async () => {
    const index = freshIndex();
    await backendOn(index).put?.({ key: "OLD" }, "old-value");
    const rotated = backendOn(index, { secret: [OTHER_SECRET, SECRET] });
    expect((await rotated.get({ key: "OLD" }))?.value.reveal()).toBe("old-value");
    const envelopeOf = () => String(es.source(index, documentId(undefined, { key: "OLD" }))?.envelope);
    const oldKeyId = envelopeOf().split(":")[1];
    await rotated.put?.({ key: "OLD" }, "new-value");
    expect(envelopeOf().split(":")[1]).not.toBe(oldKeyId);
    await expect(backendOn(index).get({ key: "OLD" })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "DECRYPT_FAILED"),
    );
    expect((await rotated.get({ key: "OLD" }))?.value.reveal()).toBe("new-value");
  });
});

describe("elasticsearch: rotate", () => {
  it("re-encrypts every secret of the prefix under the new key, so the old key can go", async () => {
    const index = freshIndex();
    const refs: SecretRef[] = [{ key: "A" }, { tenant: "t", namespace: "n.m", key: "B" }, { key: "C" }];
    for (const ref of refs) await must(backendOn(index, { prefix: "app" }).put)(ref, `value-${ref.key}`);
    await must(backendOn(index, { prefix: "other" }).put)({ key: "A" }, "other-prefix");
    const rotating = backendOn(index, { prefix: "app", secret: [OTHER_SECRET, SECRET], pageSize: 2 });
    await must(rotating.put)({ key: "C" }, "value-C"); // already under the new key

    expect(await rotating.rotate()).toEqual({ rotated: 2, current: 1, changedMeanwhile: 0 });

    const newKeyOnly = backendOn(index, { prefix: "app", secret: OTHER_SECRET });
    for (const ref of refs) expect((await newKeyOnly.get(ref))?.value.reveal()).toBe(`value-${ref.key}`);
    expect((await backendOn(index, { prefix: "other" }).get({ key: "A" }))?.value.reveal()).toBe(
      "other-prefix",
    );
    expect(await rotating.rotate()).toEqual({ rotated: 0, current: 3, changedMeanwhile: 0 });
  });

  it("never overwrites a secret written while it rotates: it counts it as changed meanwhile", async () => {
    const index = freshIndex();
    await must(backendOn(index).put)({ key: "RACE" }, "old-key-value");
    const client = new Client({ node: es.url, maxRetries: 0 });
    const writer = backendOn(index, { secret: [OTHER_SECRET, SECRET] });
    const index_ = client.index.bind(client);
    let raced = false;
    // Just before the rotation's write, another writer updates the same secret.
    client.index = (async (params: Parameters<typeof index_>[0], options?: Parameters<typeof index_>[1]) => {
      if (!raced) {
        raced = true;
        await must(writer.put)({ key: "RACE" }, "concurrent-value");
      }
      return index_(params, options);
    }) as typeof client.index;
    const rotating = elasticsearch({ client, index, secret: [OTHER_SECRET, SECRET] });
    expect(await rotating.rotate()).toEqual({ rotated: 0, current: 0, changedMeanwhile: 1 });
    await client.close();
    expect((await writer.get({ key: "RACE" }))?.value.reveal()).toBe("concurrent-value");
  });

  it("a value that does not decrypt stops the rotation with DECRYPT_FAILED", async () => {
    const index = freshIndex();
    await must(backendOn(index).put)({ key: "A" }, "a");
    const error = await backendOn(index, {
      secret: [OTHER_SECRET, "yet-another-key-of-thirty-two-chars-min"],
    })
      .rotate()
      .catch((caught: unknown) => caught);
    expect(isStrongboxError(error, "DECRYPT_FAILED")).toBe(true);
    expect((await backendOn(index).get({ key: "A" }))?.value.reveal()).toBe("a");
  });
});

describe("elasticsearch: ids, versions and concurrency", () => {
  it("hashes ids past 512 bytes and keeps the exact ref in the fields", async () => {
    const index = freshIndex();
    const backend = backendOn(index);
    const ref = { namespace: "long.names", key: `k-${"é/".repeat(300)}` };
    expect(Buffer.byteLength(documentId(undefined, ref))).toBeLessThanOrEqual(512);
    await backend.put?.(ref, "long-value");
    expect((await backend.get(ref))?.value.reveal()).toBe("long-value");
    expect((await listAll(backend, { namespace: "long.names" })).map((entry) => entry.ref)).toEqual([ref]);
  });

  it("document ids differ for refs that differ only by where the parts split", () => {
    const ids = new Set([
      documentId(undefined, { namespace: "a", key: "b" }),
      documentId(undefined, { tenant: "a", key: "b" }),
      documentId("a", { key: "b" }),
      documentId(undefined, { key: "a/b" }),
      documentId(undefined, { key: "b" }),
    ]);
    expect(ids.size).toBe(5);
  });

  it("reports seq_no:primary_term as the version, and get agrees with put", async () => {
    const backend = backendOn(freshIndex());
    const written = await must(backend.put)({ key: "V" }, "one");
    expect(written.version).toMatch(/^\d+:\d+$/);
    expect((await backend.get({ key: "V" }))?.version).toBe(written.version);
  });

  it("get with a version fails with UNSUPPORTED, even the current one, since no history is kept", async () => {
    const backend = backendOn(freshIndex());
    const ref = { key: "HISTORY" };
    const first = await must(backend.put)(ref, "one");
    const second = await must(backend.put)(ref, "two");

    const older = await backend.get(ref, { version: first.version as string }).catch((error) => error);
    const current = await backend.get(ref, { version: second.version as string }).catch((error) => error);
    const never = await backend.get(ref, { version: "1" }).catch((error) => error);

    expect(isStrongboxError(older, "UNSUPPORTED")).toBe(true);
    expect(isStrongboxError(current, "UNSUPPORTED")).toBe(true);
    expect(isStrongboxError(never, "UNSUPPORTED")).toBe(true);
  });

  it("two writers with the same stale version: one gets CONFLICT, the other's value is kept", async () => {
    const backend = backendOn(freshIndex());
    const ref = { key: "RACE" };
    const first = await must(backend.put)(ref, "start");
    const results = await Promise.allSettled([
      must(backend.put)(ref, "writer-a", { expectedVersion: first.version as string }),
      must(backend.put)(ref, "writer-b", { expectedVersion: first.version as string }),
    ]);
    const won = results.filter((result) => result.status === "fulfilled");
    const lost = results.filter((result) => result.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isStrongboxError((lost[0] as PromiseRejectedResult).reason, "CONFLICT")).toBe(true);
    const winner = results[0]?.status === "fulfilled" ? "writer-a" : "writer-b";
    const stored = await backend.get(ref);
    expect(stored?.value.reveal()).toBe(winner);
    expect(stored?.version).toBe((won[0] as PromiseFulfilledResult<{ version?: string }>).value.version);
  });

  it("concurrent plain writes retry instead of dropping tags another writer just set", async () => {
    const backend = backendOn(freshIndex());
    const ref = { key: "MERGE" };
    await must(backend.put)(ref, "start");
    await Promise.all([
      must(backend.put)(ref, "with-tags", { tags: { owner: "ops" } }),
      must(backend.put)(ref, "value-only"),
      must(backend.put)(ref, "value-only-2"),
    ]);
    const stored = await backend.get(ref);
    expect(stored?.tags).toEqual({ owner: "ops" });
  });

  it("only-if-absent refuses an existing secret with CONFLICT", async () => {
    const backend = backendOn(freshIndex());
    await must(backend.put)({ key: "ONCE" }, "one", { expectedVersion: null });
    await expect(must(backend.put)({ key: "ONCE" }, "two", { expectedVersion: "0" })).rejects.toSatisfy(
      (error) => isStrongboxError(error, "CONFLICT"),
    );
  });
});

describe("elasticsearch: getMany", () => {
  it("reads many secrets in one _mget call; missing ones are absent from the map", async () => {
    const backend = backendOn(freshIndex());
    const refs = [{ key: "ONE" }, { namespace: "n", key: "TWO" }, { key: "MISSING" }];
    await must(backend.put)(refs[0] as SecretRef, "one");
    await must(backend.put)(refs[1] as SecretRef, "two");
    const before = es.requests.filter((request) => request.path.endsWith("/_mget")).length;
    const found = await must(backend.getMany)(refs);
    expect(es.requests.filter((request) => request.path.endsWith("/_mget")).length - before).toBe(1);
    expect([...found.keys()]).toEqual([refId(refs[0] as SecretRef), refId(refs[1] as SecretRef)]);
    expect(found.get(refId(refs[1] as SecretRef))?.value.reveal()).toBe("two");
  });

  it("a moved envelope fails getMany with DECRYPT_FAILED too", async () => {
    const index = freshIndex();
    const backend = backendOn(index);
    await must(backend.put)({ key: "A" }, "a");
    await must(backend.put)({ key: "B" }, "b");
    const target = es.source(index, documentId(undefined, { key: "B" }));
    await raw.index({
      index,
      id: documentId(undefined, { key: "B" }),
      document: { ...target, envelope: es.source(index, documentId(undefined, { key: "A" }))?.envelope },
    });
    await expect(must(backend.getMany)([{ key: "A" }, { key: "B" }])).rejects.toSatisfy((error) =>
      isStrongboxError(error, "DECRYPT_FAILED"),
    );
  });
});

describe("elasticsearch: list", () => {
  it("pages with search_after and returns every secret once", async () => {
    const index = freshIndex();
    const backend = backendOn(index, { pageSize: 2 });
    const keys = ["A", "B", "C", "D", "E"];
    for (const key of keys) await must(backend.put)({ namespace: "paged", key }, `v-${key}`);
    const searchesBefore = es.requests.filter((request) => request.path.endsWith("/_search")).length;
    const listed = await listAll(backend, { namespace: "paged" });
    expect(listed.map((entry) => entry.ref.key).sort()).toEqual(keys);
    const searches =
      es.requests.filter((request) => request.path.endsWith("/_search")).length - searchesBefore;
    expect(searches).toBe(3);
  });

  it("sends the scope and tag filters to Elasticsearch in the query", async () => {
    const index = freshIndex();
    const client = new Client({ node: es.url });
    const bodies: unknown[] = [];
    client.diagnostic.on("request", (_error, event) => {
      if (event?.meta.request.params.path.endsWith("/_search")) bodies.push(event.meta.request.params.body);
    });
    const backend = elasticsearch({ client, secret: SECRET, index, prefix: "p" });
    await listAll(backend, { tenant: null, namespace: "n", tags: { application: "billing" } });
    await client.close();
    const body = JSON.parse(String(bodies[0]));
    expect(body.query.bool.filter).toEqual([
      { term: { prefix: "p" } },
      { term: { namespace: "n" } },
      { term: { "tags.application": "billing" } },
    ]);
    expect(body.query.bool.must_not).toEqual([{ exists: { field: "tenant" } }]);
    expect(body._source).toEqual({ excludes: ["envelope"] });
  });

  it("does not list secrets of another prefix or of no prefix", async () => {
    const index = freshIndex();
    await must(backendOn(index).put)({ key: "PLAIN" }, "x");
    await must(backendOn(index, { prefix: "other" }).put)({ key: "OTHER" }, "y");
    const mine = backendOn(index, { prefix: "mine" });
    await must(mine.put)({ key: "MINE" }, "z");
    expect((await listAll(mine)).map((entry) => entry.ref.key)).toEqual(["MINE"]);
    expect((await listAll(backendOn(index))).map((entry) => entry.ref.key)).toEqual(["PLAIN"]);
    expect(await mine.get({ key: "PLAIN" })).toBeUndefined();
  });
});

describe("elasticsearch: failures", () => {
  it("bad credentials are ACCESS_DENIED", async () => {
    const secured = await startElasticsearchEmulator({ auth: { apiKey: "right" } });
    try {
      const backend = elasticsearch({ node: secured.url, auth: { apiKey: "wrong" }, secret: SECRET });
      await expect(backend.get({ key: "x" })).rejects.toSatisfy((error) =>
        isStrongboxError(error, "ACCESS_DENIED"),
      );
      await backend.close?.();
    } finally {
      await secured.close();
    }
  });

  it("retries a 429 and succeeds when the cluster recovers", async () => {
    const backend = backendOn(freshIndex());
    await backend.get({ key: "warm" });
    es.faults.failNext(2, 429);
    expect(await backend.get({ key: "x" })).toBeUndefined();
  });

  it("after bounded retries, 429 and 503 are UNAVAILABLE", async () => {
    const backend = backendOn(freshIndex(), { maxRetries: 1 });
    await backend.get({ key: "warm" });
    let before = es.requests.length;
    es.faults.failNext(2, 429);
    await expect(backend.get({ key: "x" })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "UNAVAILABLE"),
    );
    expect(es.requests.length - before).toBe(2);
    before = es.requests.length;
    es.faults.failNext(2, 503);
    await expect(backend.get({ key: "x" })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "UNAVAILABLE"),
    );
    expect(es.requests.length - before).toBe(2);
  });

  it("dropped connections are UNAVAILABLE", async () => {
    const backend = backendOn(freshIndex(), { maxRetries: 0 });
    await backend.get({ key: "warm" });
    es.faults.dropNext(1);
    await expect(backend.get({ key: "x" })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "UNAVAILABLE"),
    );
  });

  it("a failed write's error carries neither the value nor the envelope", async () => {
    const index = freshIndex();
    const client = new Client({ node: es.url, maxRetries: 0 });
    const index_ = client.index.bind(client);
    // Fail the write itself (not the read before it), with a reason that quotes the field, as ES does.
    client.index = ((params: Parameters<typeof index_>[0], options?: Parameters<typeof index_>[1]) => {
      es.faults.failNext(
        1,
        400,
        elasticsearchErrorBody(
          400,
          "document_parsing_exception",
          "[1:50] failed to parse field [envelope] of type [long] in document with id 'x'. Preview of field's value: 'v1:abc:def'",
        ),
      );
      return index_(params, options);
    }) as typeof client.index;
    const backend = elasticsearch({ client, secret: SECRET, index });
    const value = `canary-${randomBytes(6).toString("hex")}`;
    const error = await must(backend.put)({ key: "LEAK" }, value).catch((caught: unknown) => caught);
    await client.close();
    expect(isStrongboxError(error, "BACKEND")).toBe(true);
    expect((error as Error).message).toContain("document_parsing_exception");
    for (const text of renderings(error)) {
      expect(text).not.toContain(value);
      expect(text).not.toMatch(/v1:[A-Za-z0-9_-]+:/);
    }
  });
});

describe("elasticsearch: options", () => {
  it("refuses a short secret with INVALID_OPTIONS naming the field, without echoing it", () => {
    let error: unknown;
    try {
      elasticsearch({ node: es.url, secret: "too-short-secret" });
    } catch (caught) {
      error = caught;
    }
    expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
    expect((error as Error).message).toContain("elasticsearch.secret");
    expect((error as Error).message).not.toContain("too-short-secret");
  });

  it("refuses an index name Elasticsearch would refuse", () => {
    expect(() => elasticsearch({ secret: SECRET, index: "Secrets" })).toThrow(/elasticsearch\.index/);
  });

  it("fromConfig takes the camelCase block and the prefix of the context", async () => {
    const index = freshIndex();
    const backend = fromConfig(
      { node: es.url, secret: SECRET, index, refresh: "wait_for", tags: { application: "billing" } },
      { path: "secret.elasticsearch", prefix: "cfg" },
    );
    await must(backend.put)({ key: "FROM_CONFIG" }, "v");
    expect(es.source(index, documentId("cfg", { key: "FROM_CONFIG" }))?.tags).toEqual({
      application: "billing",
    });
    expect(() => fromConfig({ node: es.url }, { path: "secret.elasticsearch" })).toThrow(
      /secret\.elasticsearch\.secret/,
    );
  });

  it("with refresh false, declares that list is eventually consistent", () => {
    expect(backendOn(freshIndex(), { refresh: false }).capabilities.eventualList).toBe(true);
    expect(backendOn(freshIndex()).capabilities.eventualList).toBeUndefined();
  });
});

describe("elasticsearch: through createSecretManager", () => {
  it("the YAML block of the README configures the backend", async () => {
    const secured = await startElasticsearchEmulator({ auth: { apiKey: "yaml-key" } });
    try {
      const yaml = `
secret:
  type: elasticsearch
  prefix: kestra
  elasticsearch:
    node: ${secured.url}
    auth:
      api-key: \${ES_API_KEY}
    index: strongbox-yaml
    secret: \${STRONGBOX_ES_SECRET}
    tags: { application: billing }
    refresh: wait_for
    create-index: true
    page-size: 50
    max-retries: 1
    request-timeout: 5s
`;
      const config = parseYamlConfig(yaml, "strongbox.yaml", {
        ES_API_KEY: "yaml-key",
        STRONGBOX_ES_SECRET: SECRET,
      });
      const manager = await createSecretManager(config);
      await manager.put({ namespace: "payments", key: "STRIPE" }, "sk-yaml");
      expect(await manager.getValue({ namespace: "payments", key: "STRIPE" })).toBe("sk-yaml");
      const source = secured.source(
        "strongbox-yaml",
        documentId("kestra", { namespace: "payments", key: "STRIPE" }),
      );
      expect(source).toMatchObject({ prefix: "kestra", tags: { application: "billing" } });
      await manager.close();
    } finally {
      await secured.close();
    }
  });
});
