import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type { NameCodec, SecretRef, Tags } from "@strongbox/core";
import type { CallContext, Caller } from "./client.ts";

/** What the operations share: the lazily built client, the names, the call runner, the options. */
export interface Store {
  /** Runs one call with the deadline and bounded retries. */
  readonly call: Caller;
  /** The SDK client, built on first use. */
  sdk(): SecretManagerServiceClient;
  /** `projects/P`, the project resolved on first use; failing to find it is an error of `where`. */
  parent(where: CallContext): Promise<string>;
  /** `projects/P/secrets/ID` of a ref (validated first). */
  secretName(ref: SecretRef, operation: string): Promise<string>;
  readonly codec: NameCodec;
  readonly defaultTags: Tags;
  readonly readMetadata: boolean;
}
