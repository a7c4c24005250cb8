import { Command, CommanderError, Option } from "commander";
import { adminCommands } from "./commands/admin.ts";
import { credentialCommand } from "./commands/credential.ts";
import { initCommand } from "./commands/init.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { secretCommands } from "./commands/secrets.ts";
import { transferCommands } from "./commands/transfer.ts";
import { collectList, describeFailure, EXIT_CODES, type GlobalOptions, paint } from "./context.ts";

const HELP_AFTER = `
Configuration, by precedence: flags (--set, --prefix), then STRONGBOX_* variables
(STRONGBOX_SECRET__JDBC__URL=...; "__" nests), then the file (--config, STRONGBOX_CONFIG,
./strongbox.yaml, ~/.config/strongbox/config.yaml), then defaults.

Exit codes: 0 ok, 1 unexpected error, 2 usage, 3 not found, 4 invalid configuration,
5 access denied or read-only, 6 conflict, 7 decrypt failed (wrong key), 8 store unreachable,
9 unsupported by this store, 130 interrupted.`;

/** Builds the `strongbox` program. */
export function createProgram(): Command {
  const program = new Command()
    .name("strongbox")
    .description("Read and write secrets, whatever store holds them.")
    .version("0.1.0", "-V, --version")
    .option(
      "-c, --config <file>",
      "configuration file (default ./strongbox.yaml, then ~/.config/strongbox/config.yaml)",
    )
    .option(
      "--set <path=value>",
      "override a configuration value, e.g. secret.jdbc.url=sqlite:./s.db (repeatable)",
      collectList,
    )
    .option("--prefix <prefix>", "the prefix every name lives under (secret.prefix)")
    .addOption(
      new Option("-o, --output <format>", "text, table or json (per command)").env("STRONGBOX_OUTPUT"),
    )
    .addOption(
      new Option("--service <name>", "run as this service, as isolation sees it (default: cli)").env(
        "STRONGBOX_SERVICE",
      ),
    )
    .addHelpText("after", HELP_AFTER)
    .showHelpAfterError("(run strongbox --help for usage)")
    .exitOverride();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  initCommand(program, globals);
  secretCommands(program, globals);
  transferCommands(program, globals);
  migrateCommand(program, globals);
  adminCommands(program, globals);
  credentialCommand(program, globals);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the command with these arguments (without `node` and the script); resolves the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT_CODES.OK as number;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander has printed its own message for usage errors.
      return error.exitCode === 0 ? 0 : (EXIT_CODES.USAGE as number);
    }
    const { exitCode, lines } = describeFailure(error);
    const [first, ...rest] = lines.filter((line) => line !== "");
    if (first !== undefined) process.stderr.write(`${paint("red", "error:", process.stderr)} ${first}\n`);
    for (const line of rest) process.stderr.write(`${line}\n`);
    return exitCode;
  }
}
