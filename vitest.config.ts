import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 20_000,
    // The JSON report is what .ci/run counts ("N passed, N failed") when it closes.
    reporters: ["default", "json"],
    outputFile: { json: "node_modules/.cache/vitest-results.json" },
    hookTimeout: 30_000,
    coverage: { provider: "v8", include: ["packages/*/src/**"], reporter: ["text-summary"] },
  },
});
