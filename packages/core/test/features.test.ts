import { rejectionOf, testBackend } from "@strongbox/testing";
import { describe, expect, it, vi } from "vitest";
import {
  type AuditEvent,
  isolated,
  isStrongboxError,
  memory,
  namespaceChain,
  readOnly,
  type SecretBackend,
  StrongboxError,
  withAudit,
  withCache,
  withDefaultTags,
  withInheritance,
} from "../src/index.ts";
import { counting } from "./counting.ts";

testBackend("withCache(memory)", () => withCache(memory()));
testBackend("withDefaultTags(memory)", () => withDefaultTags(memory(), { origin: "defaults" }));
testBackend("withInheritance(memory)", () => withInheritance(memory()));
testBackend("isolated(memory), allowed service", () =>
  isolated(memory(), { deniedServices: ["executor"] }, "worker"),
);
testBackend("withAudit(memory)", () => withAudit(memory(), () => {}, "worker"));
testBackend("every feature around memory", () =>
  withAudit(
    isolated(
      withInheritance(withCache(withDefaultTags(memory(), { app: "x" }))),
      { allowedServices: ["worker"] },
      "worker",
    ),
    () => {},
  ),
);

describe("cache", () => {
  it("1000 concurrent gets of one cold key make one store call", async () => {
    const store = counting(memory());
    await store.put?.({ key: "HOT" }, "value");
    const cached = withCache(store);
    const results = await Promise.all(Array.from({ length: 1000 }, () => cached.get({ key: "HOT" })));
    expect(store.calls.get).toBe(1);
    expect(results.every((secret) => secret?.value.reveal() === "value")).toBe(true);
  });

  it("remembers misses for negativeTtl, then asks again", async () => {
    vi.useFakeTimers();
    try {
      const store = counting(memory());
      const cached = withCache(store, { negativeTtl: 1000, clock: Date });
      expect(await cached.get({ key: "ABSENT" })).toBeUndefined();
      expect(await cached.get({ key: "ABSENT" })).toBeUndefined();
      expect(store.calls.get).toBe(1);
      vi.advanceTimersByTime(1500);
      expect(await cached.get({ key: "ABSENT" })).toBeUndefined();
      expect(store.calls.get).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("expires entries after expireAfterWrite", async () => {
    vi.useFakeTimers();
    try {
      const store = counting(memory());
      await store.put?.({ key: "K" }, "one");
      const cached = withCache(store, { expireAfterWrite: 10_000, clock: Date });
      await cached.get({ key: "K" });
      await store.put?.({ key: "K" }, "two");
      expect((await cached.get({ key: "K" }))?.value.reveal()).toBe("one");
      vi.advanceTimersByTime(10_001);
      expect((await cached.get({ key: "K" }))?.value.reveal()).toBe("two");
    } finally {
      vi.useRealTimers();
    }
  });

  it("a put or delete through the cache invalidates, misses included", async () => {
    const store = counting(memory());
    const cached = withCache(store);
    expect(await cached.get({ key: "K" })).toBeUndefined();
    await cached.put?.({ key: "K" }, "new");
    expect((await cached.get({ key: "K" }))?.value.reveal()).toBe("new");
    await cached.delete?.({ key: "K" });
    expect(await cached.get({ key: "K" })).toBeUndefined();
  });

  it("keeps at most maximumSize entries, and at most maximumBytes of values", async () => {
    const store = counting(memory());
    for (let i = 0; i < 5; i++) await store.put?.({ key: `K${i}` }, "x".repeat(10_000));
    const bySize = withCache(store, { maximumSize: 2 });
    for (let i = 0; i < 5; i++) await bySize.get({ key: `K${i}` });
    store.calls.get = 0;
    await bySize.get({ key: "K0" });
    expect(store.calls.get).toBe(1);
    const byBytes = withCache(store, { maximumBytes: 25_000 });
    for (let i = 0; i < 5; i++) await byBytes.get({ key: `K${i}` });
    store.calls.get = 0;
    for (let i = 0; i < 5; i++) await byBytes.get({ key: `K${i}` });
    expect(store.calls.get).toBeGreaterThanOrEqual(3);
  });

  it("stale-if-error serves the expired value when the store is UNAVAILABLE, and only then", async () => {
    vi.useFakeTimers();
    try {
      const inner = memory();
      await inner.put?.({ key: "K" }, "cached");
      let failure: StrongboxError | undefined;
      const flaky: SecretBackend = {
        ...inner,
        get: (ref, options) => (failure ? Promise.reject(failure) : inner.get(ref, options)),
      };
      const cached = withCache(flaky, { expireAfterWrite: 1000, staleIfError: true, clock: Date });
      await cached.get({ key: "K" });
      vi.advanceTimersByTime(2000);
      failure = new StrongboxError("UNAVAILABLE", "down");
      expect((await cached.get({ key: "K" }))?.value.reveal()).toBe("cached");
      const strict = withCache(flaky, { expireAfterWrite: 1000, clock: Date });
      failure = undefined;
      await strict.get({ key: "K" });
      vi.advanceTimersByTime(2000);
      failure = new StrongboxError("UNAVAILABLE", "down");
      expect(isStrongboxError(await rejectionOf(strict.get({ key: "K" })), "UNAVAILABLE")).toBe(true);
      failure = new StrongboxError("ACCESS_DENIED", "revoked");
      vi.advanceTimersByTime(10_000);
      expect(isStrongboxError(await rejectionOf(cached.get({ key: "K" })), "ACCESS_DENIED")).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("cache under concurrent writes and evictions", () => {
  it("a get in flight when a put of the same ref lands still answers, with no lru-cache abort error", async () => {
    const inner = memory();
    await inner.put?.({ key: "K" }, "old");
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: SecretBackend = {
      ...inner,
      get: async (ref, options) => gate.then(() => inner.get(ref, options)),
    };
    const cached = withCache(slow);
    const reading = cached.get({ key: "K" });
    const writing = cached.put?.({ key: "K" }, "new");
    release();
    await writing;
    expect(["old", "new"]).toContain((await reading)?.value.reveal());
    expect((await cached.get({ key: "K" }))?.value.reveal()).toBe("new");
  });

  it("more concurrent cold gets than maximumSize all answer", async () => {
    const store = memory();
    for (let i = 0; i < 10; i++) await store.put?.({ key: `K${i}` }, `v${i}`);
    const cached = withCache(store, { maximumSize: 2 });
    const values = await Promise.all(Array.from({ length: 10 }, (_, i) => cached.get({ key: `K${i}` })));
    expect(values.map((secret) => secret?.value.reveal())).toEqual(
      Array.from({ length: 10 }, (_, i) => `v${i}`),
    );
  });

  it("a store error still reaches the caller as it is", async () => {
    const failing: SecretBackend = {
      ...memory(),
      get: () => Promise.reject(new StrongboxError("UNAVAILABLE", "down")),
    };
    expect(isStrongboxError(await rejectionOf(withCache(failing).get({ key: "K" })), "UNAVAILABLE")).toBe(
      true,
    );
  });
});

describe("isolation", () => {
  it("a denied service never reaches the store", async () => {
    const store = counting(memory());
    const denied = isolated(withCache(store), { deniedServices: ["executor"] }, "executor");
    expect(isStrongboxError(await rejectionOf(denied.get({ key: "K" })), "ACCESS_DENIED")).toBe(true);
    expect(
      isStrongboxError(
        await rejectionOf(denied.put?.({ key: "K" }, "v") as Promise<unknown>),
        "ACCESS_DENIED",
      ),
    ).toBe(true);
    expect(() => denied.list?.()).toThrowError(expect.objectContaining({ code: "ACCESS_DENIED" }));
    expect(store.calls).toEqual({ get: 0, getMany: 0, list: 0, put: 0, delete: 0 });
  });

  it("allowedServices admits only those services", async () => {
    const policy = { allowedServices: ["worker", "webserver"] };
    expect(await isolated(memory(), policy, "worker").get({ key: "K" })).toBeUndefined();
    expect(
      isStrongboxError(
        await rejectionOf(isolated(memory(), policy, "executor").get({ key: "K" })),
        "ACCESS_DENIED",
      ),
    ).toBe(true);
    expect(
      isStrongboxError(
        await rejectionOf(isolated(memory(), policy, undefined).get({ key: "K" })),
        "ACCESS_DENIED",
      ),
    ).toBe(true);
  });

  it("namespace patterns: an allow match wins over a deny match, then the default", async () => {
    const backend = isolated(
      memory(),
      { namespaces: { allow: ["company.team.*"], deny: ["company.*"], default: "deny" } },
      "worker",
    );
    expect(await backend.get({ namespace: "company.team.etl", key: "K" })).toBeUndefined();
    expect(await backend.get({ namespace: "company.team", key: "K" })).toBeUndefined();
    expect(
      isStrongboxError(
        await rejectionOf(backend.get({ namespace: "company.hr", key: "K" })),
        "ACCESS_DENIED",
      ),
    ).toBe(true);
    expect(
      isStrongboxError(await rejectionOf(backend.get({ namespace: "other", key: "K" })), "ACCESS_DENIED"),
    ).toBe(true);
  });
});

describe("namespace inheritance", () => {
  it("walks a.b.c -> a.b -> a -> root and reports where it found the secret", async () => {
    expect(namespaceChain("a.b.c")).toEqual(["a.b.c", "a.b", "a", undefined]);
    const store = memory();
    await store.put?.({ tenant: "acme", namespace: "company", key: "DB" }, "from-company");
    await store.put?.({ tenant: "acme", key: "ROOT_ONLY" }, "from-root");
    await store.put?.({ tenant: "other", namespace: "company.team", key: "DB" }, "other-tenant");
    const inherit = withInheritance(store);
    const found = await inherit.get({ tenant: "acme", namespace: "company.team.etl", key: "DB" });
    expect(found?.value.reveal()).toBe("from-company");
    expect(found?.ref).toEqual({ tenant: "acme", namespace: "company", key: "DB" });
    expect((await inherit.get({ tenant: "acme", namespace: "x.y", key: "ROOT_ONLY" }))?.ref).toEqual({
      tenant: "acme",
      key: "ROOT_ONLY",
    });
  });

  it("every level goes through the cache, misses included", async () => {
    const store = counting(memory());
    await store.put?.({ key: "K" }, "root");
    const backend = withInheritance(withCache(store));
    await backend.get({ namespace: "a.b.c", key: "K" });
    expect(store.calls.get).toBe(4);
    await backend.get({ namespace: "a.b.c", key: "K" });
    await backend.get({ namespace: "a.b", key: "K" });
    expect(store.calls.get).toBe(4);
  });
});

describe("default tags", () => {
  it("merges defaults into every write; tags given to put win", async () => {
    const backend = withDefaultTags(memory(), { application: "billing", env: "prod" });
    await backend.put?.({ key: "K" }, "v", { tags: { env: "staging" } });
    expect((await backend.get({ key: "K" }))?.tags).toEqual({ application: "billing", env: "staging" });
  });

  it("a put without tags keeps the secret's tags and adds the defaults", async () => {
    const store = memory();
    await store.put?.({ key: "K" }, "v1", { tags: { owner: "team-a" } });
    const backend = withDefaultTags(store, { application: "billing" });
    await backend.put?.({ key: "K" }, "v2");
    expect((await backend.get({ key: "K" }))?.tags).toEqual({ owner: "team-a", application: "billing" });
  });

  it("refuses default tags on a store without tags", () => {
    const tagless: SecretBackend = {
      ...memory(),
      capabilities: { ...memory().capabilities, tags: false, tagFilter: "none" },
    };
    expect(() => withDefaultTags(tagless, { a: "b" })).toThrowError(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
  });
});

describe("read-only", () => {
  it("refuses writes before any store call, and hides secrets outside the tag filter", async () => {
    const store = counting(memory());
    await store.put?.({ key: "BILLING" }, "b", { tags: { application: "billing" } });
    await store.put?.({ key: "OTHER" }, "o", { tags: { application: "other" } });
    store.calls.put = 0;
    const guarded = readOnly(store, { tags: { application: "billing" } });
    expect(
      isStrongboxError(await rejectionOf(guarded.put?.({ key: "X" }, "v") as Promise<unknown>), "READ_ONLY"),
    ).toBe(true);
    expect(
      isStrongboxError(
        await rejectionOf(guarded.delete?.({ key: "BILLING" }) as Promise<unknown>),
        "READ_ONLY",
      ),
    ).toBe(true);
    expect(store.calls.put + store.calls.delete).toBe(0);
    expect(await guarded.get({ key: "OTHER" })).toBeUndefined();
    expect((await guarded.get({ key: "BILLING" }))?.value.reveal()).toBe("b");
    const listed = [];
    for await (const entry of guarded.list?.() ?? []) listed.push(entry.ref.key);
    expect(listed).toEqual(["BILLING"]);
  });
});

describe("audit", () => {
  it("records who did what and the outcome, denied calls included, never the value", async () => {
    const events: AuditEvent[] = [];
    const store = memory();
    await store.put?.({ namespace: "a", key: "K" }, "audit-canary-value");
    const backend = withAudit(
      isolated(withInheritance(store), { namespaces: { deny: ["secret.*"] } }, "worker"),
      (event) => {
        events.push(event);
      },
      "worker",
    );
    await backend.get({ namespace: "a.b", key: "K" });
    await backend.get({ key: "ABSENT" });
    await rejectionOf(backend.get({ namespace: "secret.zone", key: "K" }));
    expect(events.map((event) => [event.operation, event.outcome, event.code])).toEqual([
      ["get", "found", undefined],
      ["get", "missing", undefined],
      ["get", "denied", "ACCESS_DENIED"],
    ]);
    expect(events[0]?.foundAt).toEqual({ namespace: "a", key: "K" });
    expect(events[0]?.service).toBe("worker");
    expect(JSON.stringify(events)).not.toContain("audit-canary-value");
  });

  it("a failing hook fails the operation", async () => {
    const backend = withAudit(memory(), () => {
      throw new Error("audit sink down");
    });
    await expect(backend.get({ key: "K" })).rejects.toThrow("audit sink down");
  });
});
