import { rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { backendBlock, isStrongboxError, parseConfig, type SecretBackend } from "@strongbox/core";
import type { Command } from "commander";
import {
  CliError,
  configCandidates,
  describeFailure,
  EXIT_CODES,
  type GlobalOptions,
  loadRawConfig,
  outputOf,
  paint,
  unsupported,
  withManager,
} from "../context.ts";
import { generateKey } from "./init.ts";

interface Rotating extends SecretBackend {
  rotate(options?: {
    onBatch?: (progress: { rotated: number; total: number }) => void;
  }): Promise<{ rotated: number; keyId: string }>;
}

async function writeKeyFile(file: string, keys: string[]): Promise<void> {
  // Written beside and renamed: a crash leaves the old file or the new one, never half of one.
  const temp = join(dirname(file), `.key-${process.pid}`);
  await writeFile(temp, `${keys.join("\n")}\n`, { mode: 0o600 });
  await rename(temp, file);
}

/** `rotate-key` and `doctor`. */
export function adminCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command("rotate-key")
    .description(
      "re-encrypt every value under a new key; with a key file, generates the key and retires the old one",
    )
    .option("-o, --output <format>", "text or json")
    .action(async (options: { output?: string }) => {
      const format = outputOf(globals(), options.output);
      const raw = await loadRawConfig(globals());
      const block = backendBlock(parseConfig(raw));
      const keyFile = typeof block.secretFile === "string" ? block.secretFile : undefined;
      let keys: string[] | undefined;
      if (keyFile !== undefined) {
        const { readKeyFile } = await import("@strongbox/jdbc");
        keys = readKeyFile(keyFile);
        // One key: start a rotation. Two or more: a rotation was interrupted, resume it.
        if (keys.length === 1) {
          keys = [generateKey(), ...keys];
          await writeKeyFile(keyFile, keys);
        }
      }
      const result = await withManager(globals(), async (manager) => {
        const adapter = manager.adapter as Partial<Rotating>;
        if (typeof adapter.rotate !== "function") throw unsupported("rotate keys", manager.type);
        return adapter.rotate({
          onBatch: ({ rotated, total }) => {
            if (format !== "json") process.stderr.write(`re-encrypted ${rotated}/${total}\n`);
          },
        });
      });
      if (keyFile !== undefined && keys !== undefined && keys.length > 1)
        await writeKeyFile(keyFile, [keys[0] as string]);
      if (format === "json") process.stdout.write(`${JSON.stringify(result)}\n`);
      else
        process.stderr.write(
          `${paint("green", "rotated", process.stderr)}: ${result.rotated} value(s) re-encrypted under key ${result.keyId}${keyFile ? `; ${keyFile} now holds only the new key` : "; remove the old key from the configuration"}\n`,
        );
    });

  program
    .command("doctor")
    .description("check the configuration and that the store can be reached, without revealing any value")
    .option("-o, --output <format>", "text or json")
    .action(async (options: { output?: string }) => {
      const format = outputOf(globals(), options.output);
      const checks: { check: string; ok: boolean; detail: string }[] = [];
      const record = (check: string, ok: boolean, detail: string) => checks.push({ check, ok, detail });
      const { candidates, found } = configCandidates(globals());
      record("configuration file", true, found ?? `none found (looked at ${candidates.join(", ")})`);
      const envNames = Object.keys(process.env).filter(
        (name) => name.startsWith("STRONGBOX_") && name.includes("__"),
      );
      if (envNames.length > 0) record("environment", true, `overrides from ${envNames.sort().join(", ")}`);
      let failure: unknown;
      try {
        const raw = await loadRawConfig(globals());
        const config = parseConfig(raw);
        record("configuration", true, `valid; secret.type ${config.secret.type}`);
        await withManager(globals(), async (manager) => {
          record("backend", true, `${manager.type} loaded`);
          const adapter = manager.adapter as SecretBackend & {
            check?: () => Promise<Record<string, unknown>>;
          };
          if (typeof adapter.check === "function") {
            const info = await adapter.check();
            record("store", true, `reachable; schema and key verified; ${JSON.stringify(info)}`);
            const older = Number(info.olderKeyVersions ?? 0);
            if (older > 0)
              record("keys", true, `${older} version(s) still under an older key: run strongbox rotate-key`);
          } else {
            await manager.backend.get({ key: `strongbox-doctor-${Date.now()}` });
            record("store", true, "reachable (a lookup of a missing secret answered)");
          }
        });
      } catch (error) {
        failure = error;
        const { lines } = describeFailure(error);
        record(
          isStrongboxError(error, "INVALID_OPTIONS") ||
            (error instanceof CliError && error.exitCode === EXIT_CODES.INVALID_CONFIG)
            ? "configuration"
            : "store",
          false,
          lines.join(" "),
        );
      }
      if (format === "json")
        process.stdout.write(`${JSON.stringify({ ok: failure === undefined, checks }, null, 2)}\n`);
      else
        for (const { check, ok, detail } of checks) {
          const mark = ok ? paint("green", "ok  ", process.stdout) : paint("red", "FAIL", process.stdout);
          process.stdout.write(`${mark} ${check}: ${detail}\n`);
        }
      // The failure is printed above already: only its exit code is left to give.
      if (failure !== undefined) throw new CliError("", describeFailure(failure).exitCode);
    });
}
