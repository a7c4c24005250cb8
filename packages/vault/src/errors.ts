import { cleanRef, type SecretRef, StrongboxError } from "@strongbox/core";
import type { VaultSession } from "./auth.ts";
import { VaultRequestError } from "./client.ts";

const TYPE = "vault";

/** Runs Vault calls for one operation and turns every failure into a StrongboxError. */
export type Runner = <T>(operation: string, ref: SecretRef | undefined, work: () => Promise<T>) => Promise<T>;

/** Runs calls with a ready token; a 403 gets one fresh login (when the method can) and a second try. */
export function runner(session: VaultSession): Runner {
  return async (operation, ref, work) => {
    try {
      await session.ready();
      const token = session.current();
      try {
        return await work();
      } catch (error) {
        if (error instanceof VaultRequestError && error.status === 403 && (await session.recover(token)))
          return await work();
        throw error;
      }
    } catch (error) {
      throw toStrongbox(error, operation, ref);
    }
  };
}

/** Maps a failure to its code: 401/403 ACCESS_DENIED, CAS mismatch CONFLICT, transient UNAVAILABLE, else BACKEND. */
export function toStrongbox(error: unknown, operation: string, ref: SecretRef | undefined): StrongboxError {
  if (error instanceof StrongboxError) return error;
  const context = { backend: TYPE, operation, ...(ref && { ref: cleanRef(ref) }), cause: error };
  if (!(error instanceof VaultRequestError))
    return new StrongboxError("BACKEND", "unexpected failure", context);
  const detail =
    error.errors.join("; ") || (error.status === undefined ? error.networkCode : `status ${error.status}`);
  if (error.status === 403 || error.status === 401)
    return new StrongboxError("ACCESS_DENIED", `Vault refused: ${detail}`, context);
  if (isCasMismatch(error))
    return new StrongboxError("CONFLICT", `Vault refused the write: ${detail}`, context);
  if (error.transient) {
    const tries = error.attempts === 1 ? "" : ` (${error.attempts} attempts)`;
    return new StrongboxError("UNAVAILABLE", `Vault is unavailable${tries}: ${detail}`, context);
  }
  return new StrongboxError("BACKEND", `Vault answered ${error.status ?? "nothing"}: ${detail}`, context);
}

/** True for Vault's answer to a stale `options.cas`. */
export function isCasMismatch(error: unknown): boolean {
  return (
    error instanceof VaultRequestError &&
    error.status === 400 &&
    error.errors.some((message) => message.includes("check-and-set parameter did not match"))
  );
}
