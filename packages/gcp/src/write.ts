import {
  type PutOptions,
  type SecretInput,
  type SecretMetadata,
  type SecretRef,
  SecretValue,
  StrongboxError,
  validateRef,
} from "@strongbox/core";
import { type CallContext, Code, codeOf, fail, orMissing, toError } from "./client.ts";
import {
  crc32c,
  type GcpSecret,
  idOf,
  metadataFields,
  readMetadata,
  sameMap,
  toDate,
  versionOf,
} from "./metadata.ts";
import { TYPE } from "./options.ts";
import type { Store } from "./store.ts";

const MAX_VALUE_BYTES = 65_536;

/**
 * `GetSecret`; then `CreateSecret` with the labels and annotations when absent, or
 * `UpdateSecret` when the tags, description or ref annotation change; then `AddSecretVersion`.
 */
export async function writeSecret(
  store: Store,
  ref: SecretRef,
  value: SecretInput,
  options: PutOptions = {},
): Promise<SecretMetadata> {
  validateRef(ref);
  const where = { operation: "put", ref };
  if (options.expectedVersion !== undefined)
    throw new StrongboxError("UNSUPPORTED", "Secret Manager has no check-and-set on versions", {
      backend: TYPE,
      ...where,
    });
  const data = SecretValue.from(value).bytes();
  // Google answers an empty payload with INVALID_ARGUMENT "Field [payload] is required": say so before any call.
  if (data.byteLength === 0)
    throw new StrongboxError("UNSUPPORTED", "Secret Manager does not keep an empty value", {
      backend: TYPE,
      ...where,
    });
  if (data.byteLength > MAX_VALUE_BYTES)
    throw new StrongboxError("BACKEND", "a value holds at most 64 KiB in Secret Manager", {
      backend: TYPE,
      ...where,
    });
  const name = await store.secretName(ref, "put");
  // Tags given replace the secret's tags; without them the secret keeps its own. Default tags fill in either way.
  const tags = options.tags === undefined ? undefined : { ...store.defaultTags, ...options.tags };
  const getSecret = () => store.call((o) => store.sdk().getSecret({ name }, o), where);
  let current: GcpSecret | undefined = (await orMissing(getSecret, where))?.[0];
  if (current === undefined) {
    const fields = metadataFields(ref, tags ?? store.defaultTags, options.description);
    const secret = { replication: { automatic: {} }, ...fields };
    const request = { parent: await store.parent(where), secretId: idOf(name), secret };
    const created = await orCreated(where, () =>
      store.call((o) => store.sdk().createSecret(request, o), where),
    );
    // ALREADY_EXISTS: a concurrent put created it first; carry on with that secret.
    current = created?.[0] ?? (await getSecret().catch(fail(where)))[0];
  }
  const meta = readMetadata(current);
  const nextTags = tags ?? { ...store.defaultTags, ...meta.tags };
  const description = options.description ?? meta.description;
  const fields = metadataFields(ref, nextTags, description, current.annotations ?? {});
  if (!sameMap(fields.labels, current.labels) || !sameMap(fields.annotations, current.annotations)) {
    // No etag: the last writer's tags win, as the last writer's value does.
    const update = {
      secret: { name: current.name, ...fields },
      updateMask: { paths: ["labels", "annotations"] },
    };
    await store.call((o) => store.sdk().updateSecret(update, o), where).catch(fail(where));
  }
  const payload = { data, dataCrc32c: crc32c(data) };
  const [version] = await store
    .call((o) => store.sdk().addSecretVersion({ parent: name, payload }, o), where)
    .catch(fail(where));
  const createdAt = toDate(current.createTime);
  const updatedAt = toDate(version.createTime);
  return {
    tags: { ...nextTags },
    ...(description !== undefined && { description }),
    version: versionOf(version.name),
    ...(createdAt && { createdAt }),
    ...(updatedAt && { updatedAt }),
  };
}

/** `DeleteSecret`: the secret and every version; NOT_FOUND resolves `false`. */
export async function deleteSecret(store: Store, ref: SecretRef): Promise<boolean> {
  const name = await store.secretName(ref, "delete");
  const where = { operation: "delete", ref };
  const deleted = await orMissing(
    () => store.call((o) => store.sdk().deleteSecret({ name }, o), where),
    where,
  );
  return deleted !== undefined;
}

async function orCreated<T>(where: CallContext, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (codeOf(error) === Code.ALREADY_EXISTS) return undefined;
    throw toError(error, where);
  }
}
