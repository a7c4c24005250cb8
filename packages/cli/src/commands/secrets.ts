import { formatRef, namespaceChain, type SecretEntry, type SecretRef } from "@strongbox/core";
import { type Command, Option } from "commander";
import {
  CliError,
  collectTag,
  EXIT_CODES,
  type GlobalOptions,
  outputOf,
  paint,
  refFrom,
  withManager,
} from "../context.ts";
import { formatTags, readValue, table } from "../io.ts";

interface ScopeFlags {
  namespace?: string;
  tenant?: string;
}

/** `--namespace` and `--tenant`; for commands that name one secret, STRONGBOX_NAMESPACE / STRONGBOX_TENANT when absent. */
function scopeOptions(command: Command, fromEnv = true): Command {
  const namespace = new Option("-n, --namespace <namespace>", "the namespace (dotted: company.team.etl)");
  const tenant = new Option("-t, --tenant <tenant>", "the tenant");
  if (fromEnv) {
    namespace.env("STRONGBOX_NAMESPACE");
    tenant.env("STRONGBOX_TENANT");
  }
  return command.addOption(namespace).addOption(tenant);
}

/** JSON for scripts: metadata and where a secret was found, dates as ISO text. */
function describeEntry(entry: SecretEntry): Record<string, unknown> {
  return {
    ref: entry.ref,
    name: formatRef(entry.ref),
    version: entry.version,
    tags: entry.tags,
    description: entry.description,
    createdAt: entry.createdAt?.toISOString(),
    updatedAt: entry.updatedAt?.toISOString(),
  };
}

/** `get`, `set`, `list`, `delete`. */
export function secretCommands(program: Command, globals: () => GlobalOptions): void {
  scopeOptions(program.command("get <key>"))
    .description(
      "print a secret's value, found through namespace inheritance as a worker in that namespace sees it",
    )
    .option("--json", "print JSON: the value, where it was found and its metadata")
    .option("--version-id <version>", "read this version rather than the current one")
    .option("-o, --output <format>", "text or json")
    .action(
      async (key: string, options: ScopeFlags & { json?: boolean; versionId?: string; output?: string }) => {
        const ref = refFrom(key, options);
        const json = options.json === true || outputOf(globals(), options.output) === "json";
        await withManager(globals(), async (manager) => {
          const secret = await manager.get(
            ref,
            options.versionId === undefined ? {} : { version: options.versionId },
          );
          if (secret === undefined) {
            const looked = namespaceChain(ref.namespace).map((namespace) => namespace ?? "(root)");
            throw new CliError(
              `not found: ${formatRef(ref)}${ref.namespace === undefined ? "" : ` (looked in ${looked.join(", ")})`}`,
              EXIT_CODES.NOT_FOUND,
            );
          }
          if (json) {
            const inherited = (secret.ref.namespace ?? null) !== (ref.namespace ?? null);
            const out = {
              ...describeEntry(secret),
              requested: ref,
              foundIn: secret.ref.namespace ?? null,
              inherited,
              binary: secret.value.isBinary,
              value: secret.value.isBinary
                ? Buffer.from(secret.value.bytes()).toString("base64")
                : secret.value.reveal(),
            };
            process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
          } else if (secret.value.isBinary) {
            process.stdout.write(secret.value.bytes());
          } else {
            process.stdout.write(`${secret.value.reveal()}\n`);
          }
        });
      },
    );

  // Excess arguments are let through only to refuse them without echoing them (commander's error would).
  scopeOptions(program.command("set <key>").allowExcessArguments(true))
    .description("store a secret; the value comes from stdin or a hidden prompt, never from the command line")
    .option("--tag <name=value>", "a tag (repeatable); replaces the secret's tags", collectTag)
    .option("-d, --description <text>", "a description")
    .option(
      "--expected-version <version>",
      "write only if the current version is this one (0: only if absent)",
    )
    .option("--keep-newline", "keep a trailing newline read from stdin")
    .option("--allow-empty", "store an empty value (otherwise empty input is refused)")
    .option("-o, --output <format>", "text or json")
    .action(
      async (
        key: string,
        options: ScopeFlags & {
          tag?: Record<string, string>;
          description?: string;
          expectedVersion?: string;
          keepNewline?: boolean;
          allowEmpty?: boolean;
          output?: string;
        },
        command: Command,
      ) => {
        if (command.args.length > 1) {
          throw new CliError(
            "set takes no value on the command line (the process list and shell history would show it): pipe it on stdin or type it at the prompt",
            EXIT_CODES.USAGE,
          );
        }
        const ref = refFrom(key, options);
        const format = outputOf(globals(), options.output);
        const value = await readValue(options.keepNewline === true);
        if (value.length === 0 && options.allowEmpty !== true) {
          throw new CliError(
            "the value is empty (nothing on stdin?): nothing was stored; pass --allow-empty to store an empty value",
            EXIT_CODES.USAGE,
          );
        }
        await withManager(globals(), async (manager) => {
          const meta = await manager.put(ref, typeof value === "string" ? value : new Uint8Array(value), {
            ...(options.tag && { tags: options.tag }),
            ...(options.description !== undefined && { description: options.description }),
            ...(options.expectedVersion !== undefined && { expectedVersion: options.expectedVersion }),
          });
          if (format === "json") {
            process.stdout.write(`${JSON.stringify({ ...describeEntry({ ...meta, ref }) }, null, 2)}\n`);
          } else {
            process.stderr.write(
              `${paint("green", "stored", process.stderr)} ${formatRef(ref)}${meta.version ? ` (version ${meta.version})` : ""}\n`,
            );
          }
        });
      },
    );

  scopeOptions(program.command("list"), false)
    .description("list secrets (never their values)")
    .option("--tag <name=value>", "only secrets with this tag (repeatable)", collectTag)
    .option("-o, --output <format>", "table or json")
    .action(async (options: ScopeFlags & { tag?: Record<string, string>; output?: string }) => {
      const format = outputOf(globals(), options.output);
      await withManager(globals(), async (manager) => {
        const entries: SecretEntry[] = [];
        for await (const entry of manager.list({
          ...(options.tenant !== undefined && { tenant: options.tenant }),
          ...(options.namespace !== undefined && { namespace: options.namespace }),
          ...(options.tag && { tags: options.tag }),
        }))
          entries.push(entry);
        if (format === "json") {
          process.stdout.write(`${JSON.stringify(entries.map(describeEntry), null, 2)}\n`);
          return;
        }
        if (entries.length === 0) {
          process.stderr.write("no secrets match\n");
          return;
        }
        const rows = entries.map((entry) => [
          entry.ref.tenant ?? "",
          entry.ref.namespace ?? "",
          entry.ref.key,
          entry.version ?? "",
          formatTags(entry.tags),
          entry.description ?? "",
        ]);
        const header = ["TENANT", "NAMESPACE", "KEY", "VERSION", "TAGS", "DESCRIPTION"];
        process.stdout.write(`${table(header, rows, (line) => paint("bold", line, process.stdout))}\n`);
      });
    });

  scopeOptions(program.command("delete <key>"))
    .description("delete a secret and all its versions")
    .option("-o, --output <format>", "text or json")
    .action(async (key: string, options: ScopeFlags & { output?: string }) => {
      const ref: SecretRef = refFrom(key, options);
      const format = outputOf(globals(), options.output);
      await withManager(globals(), async (manager) => {
        const deleted = await manager.delete(ref);
        if (format === "json") process.stdout.write(`${JSON.stringify({ ref, deleted })}\n`);
        if (!deleted)
          throw new CliError(`not found: ${formatRef(ref)} (nothing deleted)`, EXIT_CODES.NOT_FOUND);
        if (format !== "json")
          process.stderr.write(`${paint("green", "deleted", process.stderr)} ${formatRef(ref)}\n`);
      });
    });
}
