import type { SecretInput, SecretValue } from "./value.ts";

/**
 * Where a secret lives. A key alone is valid (plain server code); tenant and
 * namespace scope it (a workflow platform). Namespaces are dotted: `company.team.etl`.
 */
export interface SecretRef {
  tenant?: string;
  namespace?: string;
  key: string;
}

/** Tags: a string map stored beside the value. */
export type Tags = Record<string, string>;

/** Everything about a secret but its value. */
export interface SecretMetadata {
  description?: string;
  tags: Tags;
  /** The store's version id (a number as text, a UUID, a hex id...), when it keeps versions. */
  version?: string;
  createdAt?: Date;
  updatedAt?: Date;
}

/** A secret as `get` returns it: its exact ref, its wrapped value, its metadata. */
export interface Secret extends SecretMetadata {
  ref: SecretRef;
  value: SecretValue;
}

/** A secret as `list` returns it: no value. */
export interface SecretEntry extends SecretMetadata {
  ref: SecretRef;
}

/** Options of `get`. */
export interface GetOptions {
  /** Read this version rather than the current one (needs `capabilities.versions`). */
  version?: string;
}

/** Options of `put`. */
export interface PutOptions {
  description?: string;
  /** Replaces the secret's tags (default tags are merged in by the manager). */
  tags?: Tags;
  /**
   * Check-and-set: the write succeeds only if the current version is this one
   * (`"0"` or `null`: only if the secret does not exist yet); otherwise `CONFLICT`.
   */
  expectedVersion?: string | null;
}

/** Filters of `list`; every field given narrows the result. */
export interface ListQuery {
  /** Only this tenant; `null`: only secrets without a tenant; omitted: every tenant. */
  tenant?: string | null;
  /** Only this exact namespace; `null`: only secrets without a namespace; omitted: every namespace. */
  namespace?: string | null;
  /** Only secrets that carry all these tags with these values. */
  tags?: Tags;
}

/** What a store can do beyond `get`, declared as data. */
export interface Capabilities {
  /** Stores tags and returns them. */
  tags: boolean;
  /** Where a tag filter of `list` runs: in the store, or in this process after listing. */
  tagFilter: "server" | "client" | "none";
  /** Keeps older versions and reads them with `get(ref, { version })`. */
  versions: boolean;
  /** Keeps bytes as bytes. */
  binary: boolean;
  /** Stores a description. */
  description: boolean;
  /** Supports `expectedVersion` on `put`. */
  checkAndSet: boolean;
  /** Largest value it accepts, in bytes. */
  maxValueBytes?: number;
  /** A new secret may take a moment to show in `list` (search indices, eventual consistency). */
  eventualList?: boolean;
}

/**
 * What each adapter implements. `get` is required; a store that cannot list,
 * write or delete leaves the method out, and the manager turns a call into an
 * `UNSUPPORTED` error. Absent is a value: `get` resolves `undefined`, `delete`
 * resolves `false`. Every other failure rejects with a `StrongboxError`.
 */
export interface SecretBackend {
  /** The configuration `type` of the store, e.g. `"aws-secret-manager"`. */
  readonly type: string;
  readonly capabilities: Capabilities;
  get(ref: SecretRef, options?: GetOptions): Promise<Secret | undefined>;
  /** Reads many secrets in as few calls as the store allows; missing ones are absent from the map. */
  getMany?(refs: readonly SecretRef[]): Promise<Map<string, Secret>>;
  list?(query?: ListQuery): AsyncIterable<SecretEntry>;
  /** Creates or overwrites; resolves the metadata of the new version. */
  put?(ref: SecretRef, value: SecretInput, options?: PutOptions): Promise<SecretMetadata>;
  /** Deletes every version; resolves `false` when there was nothing to delete. */
  delete?(ref: SecretRef): Promise<boolean>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}

/** What an adapter's `fromConfig` receives beside its options. */
export interface BackendContext {
  /** Path of the options in the configuration, for error messages (`secret.aws-secret-manager`). */
  path: string;
  /** The prefix from the configuration, if any. */
  prefix?: string;
}

/**
 * The entry point the manager looks for in an adapter package: it turns the
 * configuration block of that type (camelCase keys) into a backend.
 */
export type BackendFromConfig = (options: Record<string, unknown>, context: BackendContext) => SecretBackend;
