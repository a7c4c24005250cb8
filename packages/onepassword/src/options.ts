import type { OPConnect } from "@1password/connect";
import { duration, parseOptions, type Tags, tagsSchema, z } from "@strongbox/core";

/** Options of {@link onePassword}. */
export interface OnePasswordOptions {
  /** URL of the Connect server, e.g. `http://localhost:8080`. Required unless `client` is given. */
  address?: string;
  /** Connect access token. Required unless `client` is given. */
  token?: string;
  /** ID of the vault that holds the secrets (26 lowercase letters and digits). */
  vaultId: string;
  /** Starts every item title, so several applications share one vault. @default none */
  prefix?: string;
  /** `scoped`: titles are made by Strongbox; `raw`: the key is the item title as it is. @default "scoped" */
  naming?: "scoped" | "raw";
  /** Tags merged into the tags of every secret written; tags given to `put` win. @default {} */
  tags?: Tags;
  /** Retries of a call that failed with 5xx, 429 or a network error, before `UNAVAILABLE`. @default 2 */
  retries?: number;
  /** Delay before the first retry (doubles each time, each wait at most 20 s), in ms or as text (`"100ms"`). @default 100 */
  retryDelay?: number | string;
  /** Time allowed per HTTP request, in ms or as text (`"15s"`); a request that takes longer is retried. @default 15000 */
  timeout?: number | string;
  /** A configured Connect client (`OnePasswordConnect(...)`): the test seam. @default built from address and token */
  client?: OPConnect;
}

/** The options after validation: durations in ms. */
export interface ResolvedOnePasswordOptions extends Omit<OnePasswordOptions, "retryDelay" | "timeout"> {
  retryDelay?: number;
  timeout?: number;
}

const schema = z
  .object({
    address: z.url().optional(),
    token: z.string().min(1).optional(),
    vaultId: z.string().regex(/^[a-z0-9]{26}$/, "a vault ID: 26 lowercase letters and digits"),
    prefix: z.string().min(1).optional(),
    naming: z.enum(["scoped", "raw"]).optional(),
    tags: tagsSchema.optional(),
    retries: z.number().int().min(0).max(10).optional(),
    retryDelay: duration.optional(),
    timeout: duration.optional(),
    client: z.custom<OPConnect>((value) => typeof value === "object" && value !== null).optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.client !== undefined) return;
    if (options.address === undefined)
      ctx.addIssue({ code: "custom", path: ["address"], message: "required without client" });
    if (options.token === undefined)
      ctx.addIssue({ code: "custom", path: ["token"], message: "required without client" });
  });

/** Validates the options (`INVALID_OPTIONS` naming the field path, never the value). */
export function resolveOptions(options: unknown, path: string): ResolvedOnePasswordOptions {
  return parseOptions(schema, options, path, "1password") as ResolvedOnePasswordOptions;
}
