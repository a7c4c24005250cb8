import {
  BatchGetSecretValueCommand,
  type BatchGetSecretValueResponse,
  type SecretListEntry,
} from "@aws-sdk/client-secrets-manager";
import { refId, type Secret, type SecretRef } from "@strongbox/core";
import { wrapError } from "./client.ts";
import { type Context, listSecrets, secretOf, valueOnly } from "./context.ts";

const BATCH = 20; // most ids BatchGetSecretValue takes
const NAMES_PER_FILTER = 10; // most values of one ListSecrets filter

/**
 * Reads many secrets: values with BatchGetSecretValue (20 a call), metadata with
 * ListSecrets name filters (10 names a call). A secret the batch could not
 * serve, or a batch the caller may not run, is read on its own with `get`.
 */
export async function getMany(
  context: Context,
  refs: readonly SecretRef[],
  get: (ref: SecretRef) => Promise<Secret | undefined>,
): Promise<Map<string, Secret>> {
  const unique = [...new Map(refs.map((ref) => [refId(ref), ref])).values()];
  for (const ref of unique) context.nameOf(ref);
  const found = new Map<string, Secret>();
  if (unique.length === 1) {
    const secret = await get(unique[0] as SecretRef);
    if (secret !== undefined) found.set(refId(secret.ref), secret);
    return found;
  }
  for (let start = 0; start < unique.length; start += BATCH)
    await getChunk(context, unique.slice(start, start + BATCH), found, get);
  return found;
}

async function getChunk(
  context: Context,
  refs: SecretRef[],
  found: Map<string, Secret>,
  get: (ref: SecretRef) => Promise<Secret | undefined>,
): Promise<void> {
  const names = refs.map((ref) => context.nameOf(ref));
  const fallback = async (ref: SecretRef): Promise<void> => {
    const secret = await get(ref);
    if (secret !== undefined) found.set(refId(ref), secret);
  };
  let batch: BatchGetSecretValueResponse;
  let metadata: Map<string, SecretListEntry>;
  try {
    [batch, metadata] = await Promise.all([
      context.sdk().send(new BatchGetSecretValueCommand({ SecretIdList: names })),
      context.options.readMetadata ? describeMany(context, names) : new Map<string, SecretListEntry>(),
    ]);
  } catch (error) {
    // Without the batch or list permission (or at an endpoint that lacks BatchGetSecretValue),
    // each secret is read on its own; an unreachable store fails as it is.
    const wrapped = wrapError(error, "getMany");
    if (wrapped.code === "UNAVAILABLE") throw wrapped;
    for (const ref of refs) await fallback(ref);
    return;
  }
  const values = new Map((batch.SecretValues ?? []).map((value) => [value.Name, value]));
  const failed = new Map((batch.Errors ?? []).map((error) => [error.SecretId, error.ErrorCode]));
  for (const [index, ref] of refs.entries()) {
    const name = names[index] as string;
    const value = values.get(name);
    const meta = metadata.get(name);
    if (value !== undefined && !context.options.readMetadata) found.set(refId(ref), valueOnly(ref, value));
    else if (value !== undefined && meta !== undefined) found.set(refId(ref), secretOf(ref, value, meta));
    else if (value === undefined && failed.get(name) === "ResourceNotFoundException") continue;
    else await fallback(ref);
  }
}

async function describeMany(context: Context, names: string[]): Promise<Map<string, SecretListEntry>> {
  const out = new Map<string, SecretListEntry>();
  for (let start = 0; start < names.length; start += NAMES_PER_FILTER) {
    const wanted = new Set(names.slice(start, start + NAMES_PER_FILTER));
    for await (const entry of listSecrets(context, [{ Key: "name", Values: [...wanted] }], "getMany"))
      if (entry.Name !== undefined && wanted.has(entry.Name)) out.set(entry.Name, entry);
  }
  return out;
}
