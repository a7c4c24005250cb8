import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { CliError, EXIT_CODES, type GlobalOptions, outputOf, paint, withManager } from "../context.ts";

interface InitFlags {
  dir?: string;
  keyEnv?: boolean;
  showKey?: boolean;
  force?: boolean;
  output?: string;
}

/** A new key: base64 of 32 random bytes. */
export function generateKey(): string {
  return randomBytes(32).toString("base64");
}

/**
 * `init`: writes a configuration for the embedded default (an encrypted SQLite file) and a new key,
 * kept in a file with mode 0600 (or left to `${STRONGBOX_KEY}`), and creates the database.
 */
export function initCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command("init")
    .description("write a configuration for the embedded SQLite store and generate its key")
    .option("--dir <dir>", "where the database and the key file go", ".strongbox")
    .option(
      "--key-env",
      `read the key from $${"{"}STRONGBOX_KEY} instead of a key file (set it first, or add --show-key to print a new one)`,
    )
    .option("--show-key", "print the generated key")
    .option(
      "--force",
      "overwrite an existing configuration file (an existing key file is kept, never replaced)",
    )
    .option("-o, --output <format>", "text or json")
    .action(async (options: InitFlags) => {
      const format = outputOf(globals(), options.output);
      const configFile = resolve(globals().config ?? process.env.STRONGBOX_CONFIG ?? "strongbox.yaml");
      const fromEnv = options.keyEnv === true && (process.env.STRONGBOX_KEY ?? "").length >= 32;
      if (options.keyEnv && !fromEnv && !options.showKey) {
        // The new key would live nowhere but the terminal: print it only when asked.
        throw new CliError(
          "--key-env: STRONGBOX_KEY is not set (at least 32 characters, e.g. `openssl rand -base64 32`); set it, or add --show-key to print a generated one",
          EXIT_CODES.USAGE,
        );
      }
      if (existsSync(configFile) && !options.force) {
        throw new CliError(`${configFile} exists already: pass --force to overwrite it`, EXIT_CODES.CONFLICT);
      }
      const dir = resolve(options.dir ?? ".strongbox");
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const database = join(dir, "secrets.db");
      const keyFile = join(dir, "key");
      let key: string | undefined;
      let keyLine: string;
      // With --key-env, a key already in $STRONGBOX_KEY is used and never printed.
      if (options.keyEnv) {
        if (!fromEnv) key = generateKey();
        keyLine = `    secret: $${"{"}STRONGBOX_KEY}`;
      } else {
        if (!existsSync(keyFile)) {
          key = generateKey();
          await writeFile(keyFile, `${key}\n`, { mode: 0o600, flag: "wx" });
        }
        await chmod(keyFile, 0o600);
        keyLine = `    secret-file: ${JSON.stringify(keyFile)}`;
      }
      const yaml = [
        "# Strongbox configuration, written by `strongbox init`.",
        "# Values are encrypted (AES-256-GCM) in an embedded SQLite file.",
        "secret:",
        "  type: jdbc",
        "  jdbc:",
        `    url: ${JSON.stringify(`sqlite:${database}`)}`,
        keyLine,
        "  inheritance:",
        "    enabled: true",
        "",
      ].join("\n");
      await mkdir(dirname(configFile), { recursive: true });
      await writeFile(configFile, yaml, { mode: 0o600 });
      if (options.keyEnv && key !== undefined) process.env.STRONGBOX_KEY = key;
      await withManager({ ...globals(), config: configFile }, async (manager) => {
        const adapter = manager.adapter as { migrate?: () => Promise<number[]> };
        await adapter.migrate?.();
      });
      const shown = options.showKey ? key : undefined;
      if (format === "json") {
        process.stdout.write(
          `${JSON.stringify({ config: configFile, database, keyFile: options.keyEnv ? undefined : keyFile, ...(shown && { key: shown }) }, null, 2)}\n`,
        );
        return;
      }
      const ok = paint("green", "created", process.stderr);
      process.stderr.write(`${ok} ${configFile}\n${ok} ${database} (encrypted values)\n`);
      if (!options.keyEnv)
        process.stderr.write(
          `${ok} ${keyFile} (the key, mode 0600: back it up; without it the secrets are lost)\n`,
        );
      if (fromEnv) {
        process.stderr.write(`the configuration reads the key from \${STRONGBOX_KEY} (already set)\n`);
      } else if (options.keyEnv) {
        process.stderr.write("set this variable wherever strongbox runs (it is shown only now):\n");
        process.stdout.write(`STRONGBOX_KEY=${key}\n`);
      } else if (shown !== undefined) {
        process.stdout.write(`${shown}\n`);
      }
      process.stderr.write("next: echo -n 'value' | strongbox set DB_PASSWORD --namespace company.team\n");
    });
}
