import { CliError, EXIT_CODES } from "./context.ts";

/** Reads all of stdin as bytes. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * Asks for a value on the terminal without echoing it (the value never reaches the command
 * line, where the process list would show it). Ctrl-C stops the command with exit code 130.
 */
export async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the question shows: whatever is typed once it is visible stays hidden.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let value = "";
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n" || char === "\u0004") return done();
        if (char === "\u0003") return done(new CliError("interrupted", EXIT_CODES.INTERRUPTED));
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on("data", onData);
  });
}

/**
 * The value of `set`: from stdin when it is piped (one trailing newline removed, as `echo` adds
 * one), else from a hidden prompt asked twice.
 */
export async function readValue(keepNewline: boolean): Promise<string | Buffer> {
  if (!process.stdin.isTTY) {
    const bytes = await readStdin();
    const text = bytes.toString("utf8");
    // Bytes that are not UTF-8 stay bytes (a binary secret).
    if (!Buffer.from(text, "utf8").equals(bytes)) return bytes;
    return keepNewline ? text : text.replace(/\r?\n$/, "");
  }
  const first = await promptHidden("value (hidden): ");
  const second = await promptHidden("again: ");
  if (first !== second) throw new CliError("the two values differ: nothing was stored", EXIT_CODES.USAGE);
  return first;
}

/** Lines as a table with aligned columns. */
export function table(
  header: string[],
  rows: string[][],
  styleHeader: (line: string) => string = (line) => line,
): string {
  const widths = header.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => (row[index] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => (index === cells.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
      .join("  ")
      .trimEnd();
  return [styleHeader(line(header)), ...rows.map(line)].join("\n");
}

/** `k=v,k2=v2`. */
export function formatTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([name, value]) => `${name}=${value}`)
    .join(",");
}
