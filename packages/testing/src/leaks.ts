import { format, inspect } from "node:util";

/**
 * Collects what a test prints (console, stdout, stderr) and the things it is
 * handed, and fails when any of them holds one of the given secret values.
 *
 * @example
 * const leaks = watchForLeaks(["hunter2"]);
 * try { await backend.put(ref, "hunter2", { expectedVersion: "99" }); } catch (error) { leaks.check(error); }
 * leaks.stop(); // throws if "hunter2" was printed or is in the error
 */
export interface LeakWatch {
  /** Adds a value to look for. */
  add(value: string): void;
  /** Looks for the values in anything: an error (with its causes), an object, a string. */
  check(thing: unknown, label?: string): void;
  /** Stops capturing output and throws if a value was seen anywhere. */
  stop(): void;
}

/** Starts watching process output for the given values. */
export function watchForLeaks(values: readonly string[] = []): LeakWatch {
  const secrets = new Set(values.filter((value) => value.length >= 4));
  const found: string[] = [];
  const captured: string[] = [];
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const tap =
    (original: typeof process.stdout.write, stream: NodeJS.WriteStream) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      captured.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    };
  process.stdout.write = tap(stdoutWrite, process.stdout) as typeof process.stdout.write;
  process.stderr.write = tap(stderrWrite, process.stderr) as typeof process.stderr.write;
  // Test runners replace the console with their own, which may bypass the streams.
  const consoleMethods = ["log", "info", "warn", "error", "debug", "trace"] as const;
  const originals = consoleMethods.map((method) => console[method]);
  for (const [index, method] of consoleMethods.entries()) {
    const original = originals[index] as (...args: unknown[]) => void;
    console[method] = (...args: unknown[]) => {
      captured.push(format(...args));
      original.apply(console, args);
    };
  }

  const scan = (text: string, label: string): void => {
    for (const secret of secrets) if (text.includes(secret)) found.push(`${label} holds a secret value`);
  };

  return {
    add(value) {
      if (value.length >= 4) secrets.add(value);
    },
    check(thing, label = "value") {
      for (const text of renderings(thing)) scan(text, label);
    },
    stop() {
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
      for (const [index, method] of consoleMethods.entries())
        console[method] = originals[index] as (typeof console)[typeof method];
      scan(captured.join(""), "process output");
      if (found.length > 0) throw new Error(`secret leak: ${[...new Set(found)].join("; ")}`);
    },
  };
}

/** Every way a thing can end up in a log: inspect, JSON, String, and for errors the message, stack and causes. */
export function renderings(thing: unknown): string[] {
  const out: string[] = [inspect(thing, { depth: 20, showHidden: true, getters: true })];
  try {
    out.push(JSON.stringify(thing) ?? "");
  } catch {
    out.push("<not JSON>");
  }
  let error: unknown = thing;
  for (let depth = 0; depth < 10 && error instanceof Error; depth++) {
    out.push(String(error), error.message, error.stack ?? "");
    error = error.cause;
  }
  if (typeof thing !== "object" || thing === null) out.push(String(thing));
  return out;
}
