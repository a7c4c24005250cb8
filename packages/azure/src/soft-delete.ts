import type { KeyVaultSecret, SecretClient } from "@azure/keyvault-secrets";
import { cleanRef, type SecretRef, StrongboxError } from "@strongbox/core";
import { isNotFound, sleep, statusOf, TYPE, toStrongboxError } from "./client.ts";

/** What the soft-delete steps need from the backend. */
export interface SoftDeleteContext {
  sdk: () => SecretClient;
  /** Runs one SDK call: SecretNotFound is `undefined`, any other failure a StrongboxError. */
  call: <T>(
    operation: string,
    ref: SecretRef,
    run: (sdk: SecretClient) => Promise<T>,
  ) => Promise<T | undefined>;
  pollMs: number;
  timeoutMs: number;
  onSoftDeleted: "recover" | "purge";
  /** Values to mask in errors (a client secret). */
  secrets: readonly string[];
}

/** The long-running parts of Key Vault's soft delete, each bounded by the timeout. */
export interface SoftDeleteSteps {
  /** Polls an SDK poller (delete, recover) until it is done. */
  settle(operation: string, ref: SecretRef, what: string, poller: Poller): Promise<void>;
  /** Purges a soft-deleted name, waiting while it is still being deleted; nothing to purge is fine. */
  purge(operation: string, ref: SecretRef, name: string): Promise<void>;
  /** Makes a soft-deleted name writable (recover or purge), then writes; waits while the name is busy. */
  reclaim(ref: SecretRef, name: string, write: () => Promise<KeyVaultSecret>): Promise<KeyVaultSecret>;
}

interface Poller {
  isDone(): boolean;
  poll(): Promise<void>;
}

/** Builds the soft-delete steps of one backend. */
export function softDeleteSteps(context: SoftDeleteContext): SoftDeleteSteps {
  const { call, pollMs, timeoutMs } = context;

  async function waitUntil(operation: string, ref: SecretRef, what: string, done: () => Promise<boolean>) {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) {
        throw new StrongboxError("UNAVAILABLE", `${what} did not complete within ${timeoutMs} ms`, {
          backend: TYPE,
          operation,
          ref: cleanRef(ref),
        });
      }
      await sleep(pollMs);
    }
  }

  const settle: SoftDeleteSteps["settle"] = (operation, ref, what, poller) =>
    waitUntil(operation, ref, what, async () => {
      if (poller.isDone()) return true;
      await call(operation, ref, () => poller.poll());
      return poller.isDone();
    });

  const purge: SoftDeleteSteps["purge"] = (operation, ref, name) =>
    waitUntil(operation, ref, "the purge", async () => {
      try {
        await context.sdk().purgeDeletedSecret(name);
        return true;
      } catch (error) {
        if (isNotFound(error)) return true;
        if (statusOf(error).status === 409) return false; // still being deleted
        throw toStrongboxError(error, operation, ref, context.secrets);
      }
    });

  async function reclaim(
    ref: SecretRef,
    name: string,
    write: () => Promise<KeyVaultSecret>,
  ): Promise<KeyVaultSecret> {
    let written: KeyVaultSecret | undefined;
    await waitUntil("put", ref, "making the soft-deleted name writable", async () => {
      const deleted = await call("put", ref, (sdk) => sdk.getDeletedSecret(name));
      if (deleted !== undefined && context.onSoftDeleted === "purge") await purge("put", ref, name);
      else if (deleted !== undefined) {
        const poller = await call("put", ref, (sdk) =>
          sdk.beginRecoverDeletedSecret(name, { intervalInMs: pollMs }),
        );
        if (poller !== undefined) await settle("put", ref, "the recovery", poller);
      }
      // Not in the deleted list yet still refused: the deletion or purge is in progress.
      try {
        written = await write();
        return true;
      } catch (error) {
        if (statusOf(error).status === 409) return false;
        throw error;
      }
    });
    return written as KeyVaultSecret;
  }

  return { settle, purge, reclaim };
}
