import { testBackend } from "@strongbox/testing";
import { vault } from "@strongbox/vault";
import { describe, it } from "vitest";

// A Vault dev server: `vault server -dev -dev-root-token-id=root`, then
// VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root. KV v1 needs a mount:
// `vault secrets enable -path=kv1 -version=1 kv` and STRONGBOX_IT_VAULT_KV1_MOUNT=kv1.
const address = process.env.VAULT_ADDR;
const token = process.env.VAULT_TOKEN;
const live = Boolean(address && token);
const kv1Mount = process.env.STRONGBOX_IT_VAULT_KV1_MOUNT;

describe.runIf(live)("vault (live)", () => {
  testBackend("vault kv2 (live)", () =>
    vault({
      address,
      token,
      rootEngine: process.env.STRONGBOX_IT_VAULT_MOUNT ?? "secret",
      prefix: "strongbox-it",
    }),
  );
  describe.runIf(kv1Mount)("kv1", () => {
    testBackend("vault kv1 (live)", () =>
      vault({ address, token, engineVersion: 1, rootEngine: kv1Mount, prefix: "strongbox-it" }),
    );
  });
});

describe.skipIf(live)("vault (live)", () => {
  it.skip("skipped: set VAULT_ADDR and VAULT_TOKEN (a `vault server -dev`) to run the conformance suite against a real Vault", () => {});
});
