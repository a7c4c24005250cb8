import { readFile, writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { formatRef, type SecretRef, type Tags } from "@strongbox/core";
import type { Command } from "commander";
import { CliError, collectTag, EXIT_CODES, type GlobalOptions, outputOf, withManager } from "../context.ts";

/** One secret in the JSON exchange format (what `export --format json` writes and `import` reads). */
export interface ExportedSecret {
  tenant?: string;
  namespace?: string;
  key: string;
  value: string;
  tags?: Tags;
  description?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Parses a `.env` file: `KEY=value`, `export KEY=value`, quoted values, `#` comments. */
export function parseDotenv(text: string): ExportedSecret[] {
  const out: ExportedSecret[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!match || !ENV_NAME.test(match[1] as string)) {
      throw new CliError(`.env line ${index + 1} is not NAME=value`, EXIT_CODES.USAGE);
    }
    let value = match[2] as string;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    out.push({ key: match[1] as string, value });
  }
  return out;
}

/** Writes secrets as a `.env` file (double-quoted, escaped). */
export function formatDotenv(secrets: ExportedSecret[]): string {
  return secrets
    .map(
      (secret) =>
        `${secret.key}="${secret.value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
    )
    .join("\n")
    .concat(secrets.length > 0 ? "\n" : "");
}

function formatOf(explicit: string | undefined, file: string | undefined): "env" | "json" {
  const format = explicit ?? (file !== undefined && extname(file) === ".json" ? "json" : "env");
  if (format !== "env" && format !== "json")
    throw new CliError("--format must be env or json", EXIT_CODES.USAGE);
  return format;
}

interface TransferFlags {
  namespace?: string;
  tenant?: string;
  tag?: Tags;
  format?: string;
  dryRun?: boolean;
  output?: string;
}

/** `import` and `export` (.env and JSON). */
export function transferCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command("import <file>")
    .description("store every secret of a .env or JSON file (- for stdin)")
    .option("-n, --namespace <namespace>", "namespace for entries that name none")
    .option("-t, --tenant <tenant>", "tenant for entries that name none")
    .option("--tag <name=value>", "tag every imported secret (repeatable)", collectTag)
    .option("--format <format>", "env or json (default: from the file name)")
    .option("--dry-run", "show what would be stored, store nothing")
    .option("-o, --output <format>", "text or json")
    .action(async (file: string, options: TransferFlags) => {
      const output = outputOf(globals(), options.output);
      const text = file === "-" ? await readStdinText() : await readFile(file, "utf8");
      const format = formatOf(options.format, file === "-" ? undefined : file);
      const entries = format === "json" ? parseJsonExport(text) : parseDotenv(text);
      const refs: string[] = [];
      await withManager(globals(), async (manager) => {
        for (const entry of entries) {
          const ref: SecretRef = { key: entry.key };
          const tenant = entry.tenant ?? options.tenant;
          const namespace = entry.namespace ?? options.namespace;
          if (tenant !== undefined) ref.tenant = tenant;
          if (namespace !== undefined) ref.namespace = namespace;
          refs.push(formatRef(ref));
          if (options.dryRun) continue;
          const tags = entry.tags || options.tag ? { ...entry.tags, ...options.tag } : undefined;
          await manager.put(ref, entry.value, {
            ...(tags && { tags }),
            ...(entry.description !== undefined && { description: entry.description }),
          });
        }
      });
      if (output === "json")
        process.stdout.write(`${JSON.stringify({ dryRun: options.dryRun === true, secrets: refs })}\n`);
      else
        process.stderr.write(
          `${options.dryRun ? "would import" : "imported"} ${refs.length} secret(s): ${refs.join(", ")}\n`,
        );
    });

  program
    .command("export")
    .description("write secrets with their values as .env or JSON (to stdout, or --file with mode 0600)")
    .option("-n, --namespace <namespace>", "only this namespace")
    .option("-t, --tenant <tenant>", "only this tenant")
    .option("--tag <name=value>", "only secrets with this tag (repeatable)", collectTag)
    .option("--format <format>", "env or json", undefined)
    .option("-f, --file <file>", "write to this file (mode 0600) rather than stdout")
    .action(async (options: TransferFlags & { file?: string }) => {
      const format = formatOf(options.format, options.file);
      const secrets: ExportedSecret[] = [];
      await withManager(globals(), async (manager) => {
        for await (const entry of manager.list({
          ...(options.tenant !== undefined && { tenant: options.tenant }),
          ...(options.namespace !== undefined && { namespace: options.namespace }),
          ...(options.tag && { tags: options.tag }),
        })) {
          const secret = await manager.backend.get(entry.ref);
          if (secret === undefined) continue; // deleted meanwhile
          secrets.push({
            ...entry.ref,
            value: secret.value.reveal(),
            tags: entry.tags,
            ...(entry.description !== undefined && { description: entry.description }),
          });
        }
      });
      if (format === "env") {
        const names = new Set(secrets.map((secret) => secret.key));
        if (names.size < secrets.length) {
          throw new CliError(
            "two secrets share a key in different namespaces: use --format json or --namespace",
            EXIT_CODES.USAGE,
          );
        }
      }
      const text = format === "json" ? `${JSON.stringify(secrets, null, 2)}\n` : formatDotenv(secrets);
      if (options.file !== undefined) {
        await writeFile(options.file, text, { mode: 0o600 });
        process.stderr.write(`exported ${secrets.length} secret(s) to ${options.file}\n`);
      } else {
        process.stdout.write(text);
      }
    });
}

function parseJsonExport(text: string): ExportedSecret[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, which holds values: never print it.
    throw new CliError("the file is not valid JSON", EXIT_CODES.USAGE);
  }
  if (Array.isArray(parsed)) {
    return parsed.map((item, index) => {
      const entry = item as ExportedSecret;
      if (typeof entry?.key !== "string" || typeof entry.value !== "string") {
        throw new CliError(`JSON entry ${index} needs a key and a string value`, EXIT_CODES.USAGE);
      }
      return entry;
    });
  }
  if (typeof parsed === "object" && parsed !== null) {
    return Object.entries(parsed).map(([key, value]) => ({
      key,
      value: typeof value === "string" ? value : JSON.stringify(value),
    }));
  }
  throw new CliError("the JSON must be an object { KEY: value } or an array of secrets", EXIT_CODES.USAGE);
}

async function readStdinText(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString("utf8");
}
