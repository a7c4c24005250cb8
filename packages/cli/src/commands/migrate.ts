import { formatRef, type SecretEntry, type SecretManager } from "@strongbox/core";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { CliError, collectTag, EXIT_CODES, type GlobalOptions, openManager, outputOf } from "../context.ts";

interface MigrateFlags {
  from: string;
  to: string;
  namespace?: string;
  tenant?: string;
  tag?: Record<string, string>;
  dryRun?: boolean;
  output?: string;
}

/** Inheritance off on both sides: the copy works on exact refs only. */
const EXACT = { secret: { inheritance: { enabled: false } } };

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/**
 * `migrate --from <config> --to <config>`: copies every secret with its tags and description.
 * Resumable without a state file: a secret already in the target with the same value, tags and
 * description is skipped, so running it again after a failure copies only what is left.
 */
export function migrateCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command("migrate")
    .description("copy every secret, with tags and descriptions, from one backend to another (resumable)")
    .requiredOption("--from <config>", "configuration file of the source")
    .requiredOption("--to <config>", "configuration file of the target")
    .option("-n, --namespace <namespace>", "only this namespace")
    .option("-t, --tenant <tenant>", "only this tenant")
    .option("--tag <name=value>", "only secrets with this tag (repeatable)", collectTag)
    .option("--dry-run", "show what would be copied, write nothing")
    .option("-o, --output <format>", "text or json")
    .action(async (options: MigrateFlags) => {
      const format = outputOf(globals(), options.output);
      const base = globals();
      const source = await openManager({ ...base, config: options.from, set: [] }, EXACT);
      let target: SecretManager | undefined;
      const counts = { copied: 0, unchanged: 0, total: 0 };
      const refs: string[] = [];
      let bar: cliProgress.SingleBar | undefined;
      try {
        target = await openManager({ ...base, config: options.to, set: [] }, EXACT);
        const entries: SecretEntry[] = [];
        for await (const entry of source.list({
          ...(options.tenant !== undefined && { tenant: options.tenant }),
          ...(options.namespace !== undefined && { namespace: options.namespace }),
          ...(options.tag && { tags: options.tag }),
        }))
          entries.push(entry);
        counts.total = entries.length;
        if (process.stderr.isTTY && format !== "json") {
          bar = new cliProgress.SingleBar(
            { stream: process.stderr, format: "migrating [{bar}] {value}/{total} secrets", hideCursor: true },
            cliProgress.Presets.shades_classic,
          );
          bar.start(entries.length, 0);
        }
        for (const entry of entries) {
          const secret = await source.backend.get(entry.ref);
          if (secret === undefined) continue; // deleted meanwhile
          const existing = await target.backend.get(entry.ref);
          const same =
            existing?.value.equals(secret.value) === true &&
            sameTags(existing.tags, entry.tags) &&
            (existing.description ?? "") === (entry.description ?? "");
          if (same) counts.unchanged++;
          else {
            refs.push(formatRef(entry.ref));
            if (!options.dryRun) {
              await target.put(entry.ref, secret.value, {
                tags: entry.tags,
                ...(entry.description !== undefined && { description: entry.description }),
              });
            }
            counts.copied++;
          }
          bar?.increment();
        }
      } finally {
        bar?.stop();
        await source.close();
        await target?.close();
      }
      const verb = options.dryRun ? "would copy" : "copied";
      if (format === "json") {
        process.stdout.write(
          `${JSON.stringify({ dryRun: options.dryRun === true, ...counts, secrets: refs })}\n`,
        );
      } else {
        process.stderr.write(
          `${verb} ${counts.copied} of ${counts.total} secret(s); ${counts.unchanged} already up to date in the target\n`,
        );
        if (options.dryRun) for (const ref of refs) process.stdout.write(`${ref}\n`);
      }
      if (counts.total === 0 && format !== "json") {
        throw new CliError("the source holds no secrets that match", EXIT_CODES.NOT_FOUND);
      }
    });
}
