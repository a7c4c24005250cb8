import type { estypes } from "@elastic/elasticsearch";
import type { SecretCipher } from "@strongbox/core";
import { refOf, type SecretDocument } from "./documents.ts";

/** What `rotate()` did. */
export interface RotationReport {
  /** Secrets re-encrypted under the current key. */
  rotated: number;
  /** Secrets already under the current key. */
  current: number;
  /** Secrets rewritten by someone else during the rotation (their new envelope uses the current key). */
  changedMeanwhile: number;
}

/** What a rotation needs from the backend. */
export interface RotationDeps {
  cipher: SecretCipher;
  scope: string;
  /** Every document of the backend's prefix, envelope included. */
  documents: AsyncIterable<estypes.SearchHit<SecretDocument>>;
  /** Writes a document if it is still at this seq_no/primary_term; false when it changed. */
  replace(hit: estypes.SearchHit<SecretDocument>, document: SecretDocument): Promise<boolean>;
}

/**
 * Re-encrypts, under the current (first) key, every secret of the prefix whose envelope
 * names another key. Each document is rewritten only if unchanged since it was read, so
 * a concurrent write is never overwritten; a value that does not decrypt stops the
 * rotation with `DECRYPT_FAILED` (nothing is lost: each rewrite stands on its own).
 */
export async function rotateKeys(deps: RotationDeps): Promise<RotationReport> {
  const report: RotationReport = { rotated: 0, current: 0, changedMeanwhile: 0 };
  for await (const hit of deps.documents) {
    const source = hit._source;
    if (source === undefined) continue;
    if (!deps.cipher.needsRotation(source.envelope)) {
      report.current += 1;
      continue;
    }
    const ref = refOf(source);
    const value = deps.cipher.decrypt(source.envelope, ref, deps.scope);
    const envelope = deps.cipher.encrypt(value, ref, deps.scope);
    if (await deps.replace(hit, { ...source, envelope })) report.rotated += 1;
    else report.changedMeanwhile += 1;
  }
  return report;
}
