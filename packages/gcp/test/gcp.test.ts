import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import * as grpc from "@grpc/grpc-js";
import { googleSecretManager } from "@strongbox/gcp";
import { testBackend } from "@strongbox/testing";
import {
  type GoogleSecretManagerEmulator,
  startGoogleSecretManagerEmulator,
} from "@strongbox/testing/emulators/gcp";
import { PassThroughClient } from "google-auth-library";
import { afterAll, beforeAll, describe, it } from "vitest";

let emulator: GoogleSecretManagerEmulator;
let client: SecretManagerServiceClient;

beforeAll(async () => {
  emulator = await startGoogleSecretManagerEmulator();
  client = new SecretManagerServiceClient({
    apiEndpoint: emulator.host,
    port: emulator.port,
    sslCreds: grpc.credentials.createInsecure(),
    authClient: new PassThroughClient(),
  });
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

testBackend(
  "gcp (emulator)",
  () => googleSecretManager({ project: "strongbox-conformance", client, retryDelay: 1 }),
  { rejectsEmptyValue: true },
);

testBackend(
  "gcp (emulator, prefix, value-only reads)",
  () =>
    googleSecretManager({ project: "strongbox-conformance", prefix: "app1", readMetadata: false, client }),
  { rejectsEmptyValue: true },
);

const liveProject = process.env.STRONGBOX_IT_GCP_PROJECT;
describe.runIf(liveProject)("gcp (live)", () => {
  testBackend("gcp (live)", () => googleSecretManager({ project: liveProject, prefix: "strongbox-it" }), {
    rejectsEmptyValue: true,
  });
});
describe.skipIf(liveProject)("gcp (live)", () => {
  it.skip("skipped: set STRONGBOX_IT_GCP_PROJECT (with application default credentials) to run the conformance suite against Google Secret Manager", () => {});
});
