import { memory } from "@strongbox/core";
import { testBackend } from "@strongbox/testing";

testBackend("memory", () => memory());
