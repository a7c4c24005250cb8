import { type BackendFromConfig, parseOptions } from "@strongbox/core";
import { type JdbcBackend, jdbc, type StoreCheck } from "./jdbc.ts";
import { type JdbcDialect, type JdbcOptions, optionsSchema, readKeyFile } from "./options.ts";
import type { RotateOptions, RotationProgress, RotationResult } from "./rotation.ts";
import { SCHEMA_VERSION } from "./schema.ts";

/**
 * The manager's entry point for `type: jdbc`: validates the `secret.jdbc` block (camelCase keys)
 * and returns the store. The configuration's prefix applies when the block gives none.
 *
 * @example
 * const backend = fromConfig({ url: "sqlite:./secrets.db", secret: process.env.STRONGBOX_KEY }, { path: "secret.jdbc" });
 */
export const fromConfig: BackendFromConfig = (options, context) => {
  // SQL keeps refs as columns: the manager's naming mode has nothing to name here.
  const { naming: _naming, ...rest } = options;
  const parsed = parseOptions(optionsSchema, rest, context.path, "jdbc");
  return jdbc(
    {
      ...parsed,
      ...(parsed.prefix === undefined && context.prefix !== undefined ? { prefix: context.prefix } : {}),
    },
    context.path,
  );
};

export {
  type JdbcBackend,
  type JdbcDialect,
  type JdbcOptions,
  jdbc,
  type RotateOptions,
  type RotationProgress,
  type RotationResult,
  readKeyFile,
  SCHEMA_VERSION,
  type StoreCheck,
};
