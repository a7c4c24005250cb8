import { testBackend } from "@strongbox/testing";
import { startVaultEmulator, type VaultEmulator } from "@strongbox/testing/emulators/vault";
import { vault } from "@strongbox/vault";
import nodeVault from "node-vault";
import { afterAll, beforeAll } from "vitest";

let emulator: VaultEmulator;
beforeAll(async () => {
  emulator = await startVaultEmulator();
});
afterAll(() => emulator.close());

testBackend("vault kv2 (emulator)", () => vault({ address: emulator.url, token: emulator.rootToken }));
testBackend("vault kv1 (emulator)", () =>
  vault({
    client: nodeVault({ endpoint: emulator.url, token: emulator.rootToken, noCustomHTTPVerbs: true }),
    engineVersion: 1,
    rootEngine: "kv",
  }),
);
