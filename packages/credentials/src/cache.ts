import { isStrongboxError } from "@strongbox/core";
import type { AccessToken } from "./types.ts";

/** How one credential's tokens are cached. */
export interface CachePolicy {
  /** Keep tokens until their refresh time; otherwise only share the request in flight. */
  cache: boolean;
  /** Milliseconds before expiry at which a token is replaced. */
  refreshBeforeExpiry: number;
}

/** Tokens in memory, with one mint in flight per key however many callers wait. */
export interface TokenCache {
  get(key: string, mint: () => Promise<AccessToken>, policy: CachePolicy): Promise<AccessToken>;
  /** Forgets every token whose key starts with `prefix` (all when omitted). */
  clear(prefix?: string): void;
}

/**
 * When a token is replaced: `refreshBeforeExpiry` before it expires, but not
 * before half its lifetime has passed (a token shorter-lived than the margin
 * would otherwise be minted again at every call).
 */
export function refreshTime(issuedAt: number, expiresAt: number, refreshBeforeExpiry: number): number {
  return Math.max(expiresAt - refreshBeforeExpiry, issuedAt + (expiresAt - issuedAt) / 2);
}

const PRUNE_ABOVE = 256;

/** Drops expired tokens (of scopes nobody asked for again), so that the map stays small. */
function prune(entries: Map<string, { token: AccessToken }>): void {
  const now = Date.now();
  for (const [key, entry] of entries) {
    if ((entry.token.expiresAt?.getTime() ?? 0) <= now) entries.delete(key);
  }
}

/** A token cache kept in this process's memory only. */
export function tokenCache(): TokenCache {
  const entries = new Map<string, { token: AccessToken; refreshAt: number }>();
  const inflight = new Map<string, Promise<AccessToken>>();

  return {
    get(key, mint, policy) {
      if (policy.cache) {
        const entry = entries.get(key);
        if (entry !== undefined && Date.now() < entry.refreshAt) return Promise.resolve(entry.token);
      }
      const running = inflight.get(key);
      if (running !== undefined) return running;
      const issuedAt = Date.now();
      const promise: Promise<AccessToken> = mint()
        .then(
          (token) => {
            // A token without expiry is not kept: nothing would tell when to replace it. Nor is one
            // whose key was cleared while it was being minted (its request is no longer in flight).
            if (policy.cache && token.expiresAt !== undefined && inflight.get(key) === promise) {
              const refreshAt = refreshTime(issuedAt, token.expiresAt.getTime(), policy.refreshBeforeExpiry);
              entries.set(key, { token, refreshAt });
              if (entries.size > PRUNE_ABOVE) prune(entries);
            } else {
              entries.delete(key);
            }
            return token;
          },
          (error: unknown) => {
            // The server is down during the refresh window: the old token is still good until it expires.
            const previous = entries.get(key);
            const expiresAt = previous?.token.expiresAt?.getTime() ?? 0;
            if (previous !== undefined && expiresAt > Date.now() && isStrongboxError(error, "UNAVAILABLE")) {
              return previous.token;
            }
            entries.delete(key);
            throw error;
          },
        )
        .finally(() => {
          if (inflight.get(key) === promise) inflight.delete(key);
        });
      inflight.set(key, promise);
      return promise;
    },
    clear(prefix) {
      for (const key of [...entries.keys(), ...inflight.keys()]) {
        if (prefix === undefined || key.startsWith(prefix)) {
          entries.delete(key);
          inflight.delete(key);
        }
      }
    },
  };
}
