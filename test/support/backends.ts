import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backendPackages } from "@strongbox/core";
import { dropTables } from "../../packages/jdbc/test/helpers.ts";

/** A running store, and the `secret.<type>` block a user would write to reach it. */
export interface Store {
  /** The adapter's configuration block, kebab-case, as in `strongbox.yaml`. */
  block: Record<string, unknown>;
  /** Requests the store has received so far, where its emulator counts them. */
  requests?: () => number;
  /** Fault injection, where an emulator offers it: every call fails until `heal()`. */
  faults?: Faults;
  /** Outlives this run (a database server): what the tests write must be deleted afterwards. */
  persistent?: boolean;
  close(): Promise<void>;
}

/** Makes every call to the store fail, as an outage or a revoked permission would. */
export interface Faults {
  /** The store answers as when it is down (503, or gRPC UNAVAILABLE), retries included. */
  outage(): void;
  /** The store answers as when the caller lost its permission (403, or gRPC PERMISSION_DENIED). */
  forbid(): void;
  heal(): void;
}

/** The faults of an HTTP emulator. */
const httpFaults = (faults: { failNext(count: number, status: number): void; reset(): void }): Faults => ({
  outage: () => faults.failNext(1000, 503),
  forbid: () => faults.failNext(1000, 403),
  heal: () => faults.reset(),
});

/** One row of the table: how to run a backend type here. */
export interface BackendSpec {
  /** Title of the backend in test names. */
  name: string;
  /** `secret.type` in the configuration. */
  type: string;
  /** The store keeps tags: `put` with tags, `list` by tag, a read-only tag filter. */
  keepsTags: boolean;
  /** The store keeps older versions, readable with `get(ref, { version })`. */
  keepsVersions: boolean;
  /** The store gives back the exact bytes of a `Uint8Array` value. */
  keepsBytes: boolean;
  /** The store can check-and-set (`put` with `expectedVersion`). */
  checksAndSets: boolean;
  /** Managers built from one configuration share one store (not `memory`: each manager owns its own). */
  sharedStore: boolean;
  /** The emulator module (`@strongbox/testing/emulators/<name>`), when the backend needs one. */
  emulator?: string;
  /** A prefix legal for this store, from random hex. @default `sb<hex>` */
  prefix?: (hex: string) => string;
  /** The separator of a prefix nested in another (`billing` -> `billing/eu`), legal for this store. @default "/" */
  nestSeparator?: string;
  /** Why it cannot run on this machine (a database URL not set), before anything is imported. */
  unavailable?: () => string | undefined;
  start(): Promise<Store>;
}

/** A backend with the verdict of {@link checkReady}: `skip` says why it cannot run. */
export type CheckedBackend = BackendSpec & { skip?: string };

/** Random hex, for names no other test or run uses. */
export const hex = (bytes = 4): string => randomBytes(bytes).toString("hex");

const ENCRYPTION_KEY = `strongbox-backends-${hex(16)}`;

/** A SQL store in tables of its own; on a database server they are dropped at the end. */
const sqlStore = (url: string, persistent: boolean): Store => {
  const table = `sbx_backends_it_${hex()}`;
  return {
    block: { url, secret: ENCRYPTION_KEY, table },
    persistent,
    close: () => dropTables(url, table),
  };
};

/** Every backend type, each with the few lines it takes to start its store. */
export const backends: BackendSpec[] = [
  {
    name: "memory",
    type: "memory",
    keepsTags: true,
    keepsVersions: true,
    keepsBytes: true,
    checksAndSets: true,
    sharedStore: false,
    start: async () => ({ block: {}, close: async () => {} }),
  },
  {
    name: "jdbc (SQLite)",
    type: "jdbc",
    keepsTags: true,
    keepsVersions: true,
    keepsBytes: true,
    checksAndSets: true,
    sharedStore: true,
    async start() {
      const dir = await mkdtemp(join(tmpdir(), "sbx-backends-"));
      const store = sqlStore(`sqlite:${join(dir, "secrets.db")}`, false);
      return { ...store, close: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: "jdbc (PostgreSQL)",
    type: "jdbc",
    keepsTags: true,
    keepsVersions: true,
    keepsBytes: true,
    checksAndSets: true,
    sharedStore: true,
    unavailable: () =>
      process.env.STRONGBOX_IT_POSTGRES_URL ? undefined : "STRONGBOX_IT_POSTGRES_URL is not set",
    start: async () => sqlStore(process.env.STRONGBOX_IT_POSTGRES_URL as string, true),
  },
  {
    name: "jdbc (MariaDB)",
    type: "jdbc",
    keepsTags: true,
    keepsVersions: true,
    keepsBytes: true,
    checksAndSets: true,
    sharedStore: true,
    unavailable: () => (process.env.STRONGBOX_IT_MYSQL_URL ? undefined : "STRONGBOX_IT_MYSQL_URL is not set"),
    start: async () => sqlStore(process.env.STRONGBOX_IT_MYSQL_URL as string, true),
  },
  {
    name: "aws-secret-manager",
    type: "aws-secret-manager",
    keepsTags: true,
    keepsVersions: true,
    keepsBytes: true,
    checksAndSets: false,
    sharedStore: true,
    emulator: "aws",
    async start() {
      const { startAwsSecretsManagerEmulator } = await import("@strongbox/testing/emulators/aws");
      const aws = await startAwsSecretsManagerEmulator();
      return {
        block: {
          region: aws.region,
          "endpoint-override": aws.url,
          "access-key-id": "test",
          "secret-key-id": "test",
          "retry-base-delay": "1ms",
        },
        requests: () => aws.requests.length,
        faults: httpFaults(aws.faults),
        close: () => aws.close(),
      };
    },
  },
  {
    name: "azure-key-vault",
    type: "azure-key-vault",
    keepsTags: true,
    keepsVersions: true,
    keepsBytes: true,
    checksAndSets: false,
    sharedStore: true,
    emulator: "azure",
    // Prefixes are letters, digits and dashes here.
    nestSeparator: "-",
    async start() {
      const { startAzureKeyVaultEmulator } = await import("@strongbox/testing/emulators/azure");
      const vault = await startAzureKeyVaultEmulator();
      // DefaultAzureCredential finds the managed identity as it would on App Service.
      const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };
      process.env.IDENTITY_ENDPOINT = vault.identityEndpoint;
      process.env.IDENTITY_HEADER = vault.identityHeader;
      return {
        block: {
          "key-vault-uri": vault.url,
          ca: vault.ca,
          "disable-challenge-resource-verification": true,
          "poll-interval": "5ms",
          "retry-delay": "1ms",
        },
        requests: () => vault.requests.length,
        faults: httpFaults(vault.faults),
        async close() {
          restoreEnv("IDENTITY_ENDPOINT", saved.endpoint);
          restoreEnv("IDENTITY_HEADER", saved.header);
          await vault.close();
        },
      };
    },
  },
  {
    name: "google-secret-manager",
    type: "google-secret-manager",
    keepsTags: true,
    keepsVersions: true,
    keepsBytes: true,
    checksAndSets: false,
    sharedStore: true,
    emulator: "gcp",
    // Prefixes are [A-Za-z0-9_-] here.
    nestSeparator: "-",
    async start() {
      const { startGoogleSecretManagerEmulator } = await import("@strongbox/testing/emulators/gcp");
      const google = await startGoogleSecretManagerEmulator();
      return {
        block: {
          project: `backends-${hex()}`,
          endpoint: `http://${google.host}:${google.port}`,
          "retry-delay": "1ms",
        },
        requests: () => google.requests.length,
        faults: {
          outage: () => google.faults.failNext(1000, "UNAVAILABLE"),
          forbid: () => google.faults.failNext(1000, "PERMISSION_DENIED"),
          heal: () => google.faults.reset(),
        },
        close: () => google.close(),
      };
    },
  },
  {
    name: "vault",
    type: "vault",
    keepsTags: true,
    keepsVersions: true,
    keepsBytes: true,
    checksAndSets: true,
    sharedStore: true,
    emulator: "vault",
    async start() {
      const { startVaultEmulator } = await import("@strongbox/testing/emulators/vault");
      const vault = await startVaultEmulator();
      return {
        block: { address: vault.url, token: vault.rootToken, "retry-delay": "1ms" },
        requests: () => vault.requests.length,
        faults: httpFaults(vault.faults),
        close: () => vault.close(),
      };
    },
  },
  {
    name: "elasticsearch",
    type: "elasticsearch",
    keepsTags: true,
    keepsVersions: false,
    keepsBytes: true,
    checksAndSets: true,
    sharedStore: true,
    emulator: "elasticsearch",
    async start() {
      const { startElasticsearchEmulator } = await import("@strongbox/testing/emulators/elasticsearch");
      const apiKey = `es-${hex(12)}`;
      const es = await startElasticsearchEmulator({ auth: { apiKey } });
      return {
        block: { node: es.url, auth: { "api-key": apiKey }, secret: ENCRYPTION_KEY, "max-retries": 1 },
        requests: () => es.requests.length,
        faults: httpFaults(es.faults),
        close: () => es.close(),
      };
    },
  },
  {
    name: "doppler",
    type: "doppler",
    keepsTags: false,
    keepsVersions: false,
    keepsBytes: false,
    checksAndSets: false,
    sharedStore: true,
    emulator: "doppler",
    // Doppler names are [A-Z_][A-Z0-9_]*, and so must the prefix be.
    prefix: (id) => `SB${id.toUpperCase()}`,
    nestSeparator: "_",
    async start() {
      const { startDopplerEmulator } = await import("@strongbox/testing/emulators/doppler");
      const token = `dp.st.prd.${hex(12)}`;
      const doppler = await startDopplerEmulator({
        tokens: [{ token, project: "billing", config: "prd" }],
        configs: ["billing/prd"],
      });
      return {
        block: { token, project: "billing", config: "prd", "base-url": doppler.url, "retry-delay": "1ms" },
        requests: () => doppler.requests.length,
        faults: httpFaults(doppler.faults),
        close: () => doppler.close(),
      };
    },
  },
  {
    name: "1password",
    type: "1password",
    keepsTags: true,
    keepsVersions: false,
    keepsBytes: false,
    checksAndSets: false,
    sharedStore: true,
    emulator: "onepassword",
    async start() {
      const { startOnePasswordEmulator } = await import("@strongbox/testing/emulators/onepassword");
      const token = `connect-${hex(12)}`;
      const connect = await startOnePasswordEmulator({ token, vaults: ["Billing"] });
      return {
        block: {
          address: connect.url,
          token,
          "vault-id": connect.vaults[0]?.id,
          "retry-delay": "1ms",
        },
        requests: () => connect.requests.length,
        faults: httpFaults(connect.faults),
        close: () => connect.close(),
      };
    },
  },
  {
    name: "cyberark",
    type: "cyberark",
    keepsTags: true,
    keepsVersions: true,
    keepsBytes: false,
    checksAndSets: false,
    sharedStore: true,
    emulator: "cyberark",
    async start() {
      const { startConjurEmulator } = await import("@strongbox/testing/emulators/cyberark");
      const password = `Pw-${hex(8)}-X1`;
      const conjur = await startConjurEmulator({
        account: "acme",
        users: [{ login: "admin", password }],
        policies: ["apps/billing"],
      });
      return {
        block: {
          address: conjur.url,
          account: "acme",
          username: "admin",
          password,
          "policy-branch": "apps/billing",
          "retry-delay": "1ms",
        },
        requests: () => conjur.requests.length,
        faults: httpFaults(conjur.faults),
        close: () => conjur.close(),
      };
    },
  },
];

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/**
 * Whether a backend can run here: its database is configured, its adapter package exports
 * `fromConfig`, its emulator module exists. Adapters still being written must not break the file.
 */
export async function checkReady(backend: BackendSpec): Promise<CheckedBackend> {
  const unavailable = backend.unavailable?.();
  if (unavailable !== undefined) return { ...backend, skip: unavailable };
  if (backend.type !== "memory") {
    const specifier = backendPackages[backend.type] as string;
    try {
      const adapter = (await import(/* @vite-ignore */ specifier)) as { fromConfig?: unknown };
      if (typeof adapter.fromConfig !== "function") {
        return { ...backend, skip: `${specifier} has no fromConfig export yet` };
      }
    } catch (error) {
      return { ...backend, skip: `${specifier} cannot be imported: ${(error as Error).message}` };
    }
  }
  if (backend.emulator !== undefined) {
    const specifier = `@strongbox/testing/emulators/${backend.emulator}`;
    try {
      await import(/* @vite-ignore */ specifier);
    } catch (error) {
      return {
        ...backend,
        skip: `the emulator ${specifier} cannot be imported: ${(error as Error).message}`,
      };
    }
  }
  return backend;
}
