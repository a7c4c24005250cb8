import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createCipher, createSecretManager, memory, type SecretBackend, SecretValue } from "@strongbox/core";
import { type BenchResult, paired, ratio, timeNs } from "../harness.ts";

const KEYS = Array.from({ length: 100 }, (_, index) => `SECRET_${index}`);

/** An AWS SDK client whose calls never leave the process: each one is counted and answered after `delayMs`. */
function countingAwsClient(delayMs: number): { client: SecretsManagerClient; calls: () => number } {
  let calls = 0;
  const client = new SecretsManagerClient({
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  client.middlewareStack.add(
    () => async (args) => {
      calls += 1;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const input = (args.input ?? {}) as { SecretId?: string };
      return { output: { $metadata: {}, Name: input.SecretId, SecretString: "value" }, response: {} };
    },
    { step: "initialize", name: "benchStub" },
  );
  return { client, calls: () => calls };
}

/** A store that counts its `get` calls and answers after `delayMs`, like a network round trip. */
function slowStore(delayMs: number): { backend: SecretBackend; calls: () => number } {
  const inner = memory();
  let calls = 0;
  return {
    calls: () => calls,
    backend: {
      ...inner,
      get: async (ref, options) => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return inner.get(ref, options);
      },
    },
  };
}

async function cacheHit(): Promise<BenchResult> {
  const manager = await createSecretManager(
    {
      secret: {
        type: "memory",
        prefix: "bench",
        cache: { enabled: true, "maximum-size": 1000, "expire-after-write": "10m" },
        isolation: { enabled: true, "denied-services": ["executor"] },
        "read-only": { enabled: false },
      },
    },
    { service: "worker" },
  );
  for (const key of KEYS) await manager.put({ namespace: "company.team", key }, "value");
  const map = new Map(KEYS.map((key) => [key, "value"]));
  const { client } = countingAwsClient(0);
  const powertools = new SecretsProvider({ awsSdkV3Client: client });
  for (const key of KEYS) {
    await manager.get({ namespace: "company.team", key });
    await powertools.get(key, { maxAge: 600 });
  }
  let i = 0;
  const next = () => KEYS[i++ % KEYS.length] as string;
  const mapGet = async (key: string) => map.get(key);
  const { oursNs: ours, limitNs: limit } = await paired(
    () => manager.get({ namespace: "company.team", key: next() }),
    async () => mapGet(next()),
  );
  const peer = await timeNs(() => powertools.get(next(), { maxAge: 600 }));
  const ratioToLimit = ratio(ours, limit);
  return {
    description: "cached get through a manager with prefix, isolation and cache on (read-only off), 100 keys",
    goal: "ratioToLimit <= 2 (limit: an awaited async Map.get) and faster than Powertools SecretsProvider.get",
    pass: ratioToLimit <= 2 && ours < peer,
    oursNs: ours,
    limitNs: limit,
    powertoolsNs: peer,
    ratioToLimit,
    ratioToPeers: { "@aws-lambda-powertools/parameters": ratio(ours, peer) },
  };
}

async function cacheStampede(): Promise<BenchResult> {
  const store = slowStore(20);
  await store.backend.put?.({ key: "COLD" }, "value");
  const manager = await createSecretManager(
    { secret: { type: "memory", cache: { enabled: true } } },
    { backend: store.backend },
  );
  await Promise.all(Array.from({ length: 1000 }, () => manager.get("COLD")));
  const { client, calls } = countingAwsClient(20);
  const powertools = new SecretsProvider({ awsSdkV3Client: client });
  await Promise.all(Array.from({ length: 1000 }, () => powertools.get("COLD", { maxAge: 60 })));
  return {
    description: "1000 concurrent gets of one cold key (store answers in 20 ms): store calls made",
    goal: "1 store call",
    pass: store.calls() === 1,
    oursStoreCalls: store.calls(),
    powertoolsStoreCalls: calls(),
    ratioToLimit: store.calls(),
    ratioToPeers: { "@aws-lambda-powertools/parameters": ratio(store.calls(), calls()) },
  };
}

async function cryptoRoundtrip(): Promise<BenchResult> {
  const cipher = createCipher({ keys: ["bench-key-of-at-least-thirty-two-characters"] });
  const ref = { namespace: "company.team", key: "DB_PASSWORD" };
  const value = SecretValue.from(randomBytes(32).toString("hex"));
  const rawKey = randomBytes(32);
  const plain = Buffer.from(value.reveal());
  const raw = () => {
    const iv = randomBytes(12);
    const enc = createCipheriv("aes-256-gcm", rawKey, iv);
    const sealed = Buffer.concat([enc.update(plain), enc.final()]);
    const tag = enc.getAuthTag();
    const dec = createDecipheriv("aes-256-gcm", rawKey, iv);
    dec.setAuthTag(tag);
    return Buffer.concat([dec.update(sealed), dec.final()]);
  };
  const ours = () => cipher.decrypt(cipher.encrypt(value, ref), ref);
  if (ours().reveal() !== value.reveal()) throw new Error("crypto round trip is broken");
  const { oursNs, limitNs: limit } = await paired(ours, raw);
  const ratioToLimit = ratio(oursNs, limit);
  return {
    description:
      "envelope encrypt + decrypt of a 64-byte value (AAD, base64url envelope) vs raw node:crypto AES-256-GCM",
    goal: "ratioToLimit <= 1.3",
    pass: ratioToLimit <= 1.3,
    oursNs,
    limitNs: limit,
    ratioToLimit,
  };
}

/** The core's benchmarks: cache hit, cache stampede, crypto round trip. */
export async function run(): Promise<Record<string, BenchResult>> {
  return {
    "cache.hit": await cacheHit(),
    "cache.stampede": await cacheStampede(),
    "crypto.roundtrip": await cryptoRoundtrip(),
  };
}
