export { type ExportedSecret, formatDotenv, parseDotenv } from "./commands/transfer.ts";
export { CliError, EXIT_CODES } from "./context.ts";
export { createProgram, main } from "./main.ts";
