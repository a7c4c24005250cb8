import type { BackendFromConfig, SecretBackend } from "@strongbox/core";
import { createBackend } from "./backend.ts";
import { type AwsSecretsManagerOptions, resolveOptions } from "./options.ts";

export type { AwsSecretsManagerOptions } from "./options.ts";

/**
 * A backend over AWS Secrets Manager (`type: aws-secret-manager`). Names are made
 * from refs by the core codec (AWS's alphabet, the prefix first) and each secret
 * carries its exact ref in `strongbox:*` tags. No call reaches AWS before the
 * first operation.
 *
 * @example
 * const backend = awsSecretsManager({ region: "eu-west-1", prefix: "billing", tags: { application: "billing" } });
 * await backend.put?.({ namespace: "company.team", key: "DB_PASSWORD" }, "hunter2");
 */
export function awsSecretsManager(options: AwsSecretsManagerOptions = {}): SecretBackend {
  return createBackend(resolveOptions(options, "awsSecretsManager"));
}

/**
 * Builds the backend from its configuration block (`secret.aws-secret-manager`,
 * camelCase keys); the prefix of the configuration applies when the block has none.
 */
export const fromConfig: BackendFromConfig = (options, context) =>
  createBackend(
    resolveOptions(
      context.prefix !== undefined && options.prefix === undefined
        ? { ...options, prefix: context.prefix }
        : options,
      context.path,
    ),
  );
