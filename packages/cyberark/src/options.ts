import { duration, parseOptions, type Tags, tagsSchema, z } from "@strongbox/core";

/** Options of {@link cyberark}. */
export interface CyberArkOptions {
  /** Base URL of the Conjur server, e.g. `https://conjur.example.com`. */
  address: string;
  /** The Conjur organization account. */
  account: string;
  /** Login of the user or host (`host/myapp`). */
  username: string;
  /** Password of the user: exchanged once for its API key (`GET /authn/{account}/login`). Give this or `apiKey`. */
  password?: string;
  /** API key of the user or host. Give this or `password`. */
  apiKey?: string;
  /** Policy branch the variables are declared in (their ids start with it unless it is `root`). @default "root" */
  policyBranch?: string;
  /** Starts every variable name after the branch. @default none */
  prefix?: string;
  /** `scoped`: names made by Strongbox; `raw`: the key is the variable id (after branch and prefix). @default "scoped" */
  naming?: "scoped" | "raw";
  /** Tags merged into the tags of every secret written; tags given to `put` win. @default {} */
  tags?: Tags;
  /**
   * Create and delete variables and write their annotations by loading policies (needs `create` and
   * `update` on the branch). `false`: only read and write values of variables that already exist. @default true
   */
  manageVariables?: boolean;
  /** Retries of a call that failed with 5xx, 409 (busy), 429 or a network error, before `UNAVAILABLE`. @default 2 */
  retries?: number;
  /** Delay before the first retry (doubles each time, each wait at most 20 s), in ms or as text (`"100ms"`). @default 100 */
  retryDelay?: number | string;
  /** Time allowed per HTTP request, in ms or as text (`"30s"`); a request that takes longer is retried. @default 30000 */
  timeout?: number | string;
  /** The `fetch` to use: the test seam. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** The options after validation: durations in ms. */
export interface ResolvedCyberArkOptions extends Omit<CyberArkOptions, "retryDelay" | "timeout"> {
  retryDelay?: number;
  timeout?: number;
}

const schema = z
  .object({
    address: z.url(),
    account: z.string().min(1),
    username: z.string().min(1),
    password: z.string().min(1).optional(),
    apiKey: z.string().min(1).optional(),
    policyBranch: z.string().min(1).optional(),
    prefix: z.string().min(1).optional(),
    naming: z.enum(["scoped", "raw"]).optional(),
    tags: tagsSchema.optional(),
    manageVariables: z.boolean().optional(),
    retries: z.number().int().min(0).max(10).optional(),
    retryDelay: duration.optional(),
    timeout: duration.optional(),
    fetch: z.custom<typeof fetch>((value) => typeof value === "function").optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    if ((options.password === undefined) === (options.apiKey === undefined))
      ctx.addIssue({ code: "custom", path: ["apiKey"], message: "give either password or apiKey" });
  });

/** Validates the options (`INVALID_OPTIONS` naming the field path, never the value). */
export function resolveOptions(options: unknown, path: string): ResolvedCyberArkOptions {
  return parseOptions(schema, options, path, "cyberark") as ResolvedCyberArkOptions;
}
