import {
  CreateSecretCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import {
  type PutOptions,
  type SecretInput,
  type SecretMetadata,
  type SecretRef,
  SecretValue,
  StrongboxError,
  type Tags,
} from "@strongbox/core";
import { errorName, refTags, toTagList, userTags, wrapError } from "./client.ts";
import { type Context, describe } from "./context.ts";
import { TYPE } from "./options.ts";

/**
 * Creates the secret, or when the name is taken, writes a new version over it:
 * restoring it first if it is scheduled for deletion, then replacing its
 * description and (when given) its tags. The ref tags stay on the secret.
 */
export async function putSecret(
  context: Context,
  ref: SecretRef,
  input: SecretInput,
  putOptions: PutOptions = {},
): Promise<SecretMetadata> {
  const name = context.nameOf(ref);
  if (putOptions.expectedVersion !== undefined)
    throw new StrongboxError("UNSUPPORTED", "AWS Secrets Manager has no check-and-set (expectedVersion)", {
      backend: TYPE,
      operation: "put",
      ref,
    });
  if (putOptions.tags !== undefined) context.checkTags(putOptions.tags, "put tags");
  const sdk = context.sdk();
  const value = SecretValue.from(input);
  const masks = [value.reveal()];
  const payload = value.isBinary ? { SecretBinary: value.bytes() } : { SecretString: value.reveal() };
  const description = putOptions.description === undefined ? {} : { Description: putOptions.description };
  const wanted: Tags = { ...context.options.tags, ...putOptions.tags };
  const own = context.raw ? [] : refTags(ref);
  const fail = (error: unknown): never => {
    throw wrapError(error, "put", ref, masks);
  };

  let refusal: unknown;
  try {
    const created = await sdk.send(
      new CreateSecretCommand({
        Name: name,
        ...payload,
        ...description,
        Tags: [...own, ...toTagList(wanted)],
      }),
    );
    return {
      tags: wanted,
      ...(created.VersionId && { version: created.VersionId }),
      ...(putOptions.description !== undefined && { description: putOptions.description }),
    };
  } catch (error) {
    refusal = error;
  }
  // The name is taken (ResourceExists), or held by a secret scheduled for deletion (InvalidRequest).
  const kind = errorName(refusal);
  if (kind !== "ResourceExistsException" && kind !== "InvalidRequestException") return fail(refusal);
  const current = await describe(context, name, ref, "put");
  if (current === undefined) return fail(refusal);
  const restore = current.DeletedDate !== undefined;
  if (!restore && kind === "InvalidRequestException") return fail(refusal);
  if (restore) await sdk.send(new RestoreSecretCommand({ SecretId: name })).catch(fail);
  const updated = await sdk
    .send(new UpdateSecretCommand({ SecretId: name, ...payload, ...description }))
    .catch(fail);

  const before = userTags(current.Tags);
  // Given tags replace the old ones; a restored secret starts again from the given (or default) tags.
  const after = putOptions.tags !== undefined || restore ? wanted : { ...before, ...context.options.tags };
  const stale = Object.keys(before).filter((key) => !Object.hasOwn(after, key));
  if (stale.length > 0)
    await sdk.send(new UntagResourceCommand({ SecretId: name, TagKeys: stale })).catch(fail);
  const changed = Object.entries(after).filter(
    ([key, text]) => !Object.hasOwn(before, key) || before[key] !== text,
  );
  const missingOwn = own.filter(
    (tag) => !current.Tags?.some((t) => t.Key === tag.Key && t.Value === tag.Value),
  );
  if (changed.length > 0 || missingOwn.length > 0) {
    const tags = [...missingOwn, ...toTagList(Object.fromEntries(changed))];
    await sdk.send(new TagResourceCommand({ SecretId: name, Tags: tags })).catch(fail);
  }
  const text = putOptions.description ?? current.Description;
  return {
    tags: after,
    ...(updated.VersionId && { version: updated.VersionId }),
    ...(text !== undefined && { description: text }),
  };
}
