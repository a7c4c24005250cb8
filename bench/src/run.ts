import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchResult, Suite } from "./harness.ts";

// `npm run bench [-- name ...]` runs every suite in ./suites (or the named ones) and writes bench/results.json.
const here = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const files = (await readdir(join(here, "suites"))).filter(
  (file) => file.endsWith(".ts") && (only.length === 0 || only.some((name) => file.startsWith(name))),
);
const results: Record<string, BenchResult> = {};
for (const file of files.sort()) {
  const suite = (await import(join(here, "suites", file))) as { run: Suite };
  process.stdout.write(`suite ${file}...\n`);
  Object.assign(results, await suite.run());
}
for (const [id, result] of Object.entries(results)) {
  const peers = Object.entries(result.ratioToPeers ?? {})
    .map(([peer, value]) => `${peer} x${value}`)
    .join(", ");
  const limit = result.ratioToLimit === undefined ? "" : ` ratioToLimit ${result.ratioToLimit}`;
  process.stdout.write(
    `${result.pass ? "PASS" : "MISS"} ${id.padEnd(24)}${limit}${peers ? ` peers: ${peers}` : ""} (goal: ${result.goal})\n`,
  );
}
const path = join(here, "..", "results.json");
// A partial run (`npm run bench -- jdbc`) updates its own ids and keeps the others' last figures.
const previous = only.length === 0 ? {} : await readFile(path, "utf8").then(JSON.parse, () => ({}));
await writeFile(path, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
process.stdout.write(`wrote ${path}\n`);
