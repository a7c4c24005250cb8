import { StrongboxError } from "./errors.ts";

/** The arguments of a template call: `secret('NAME', subkey='field')` -> positional `["NAME"]`, named `{ subkey: "field" }`. */
export interface TemplateArgs {
  positional: string[];
  named: Record<string, string>;
}

/** One `{{ fn(...) }}` in a template. */
export interface TemplateCall {
  /** Where it starts and ends in the text. */
  start: number;
  end: number;
  name: string;
  args: TemplateArgs;
}

const CALL = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(([^)]*)\)\s*\}\}/g;
const ARG = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)\s*=\s*)?(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(?:,|$)/y;

/** Finds the `{{ name('arg', key='value') }}` calls in a string. Text without calls yields nothing. */
export function parseTemplate(text: string): TemplateCall[] {
  const calls: TemplateCall[] = [];
  for (const match of text.matchAll(CALL)) {
    const [whole, name, inner] = match as unknown as [string, string, string];
    calls.push({ start: match.index, end: match.index + whole.length, name, args: parseArgs(inner, whole) });
  }
  return calls;
}

function parseArgs(inner: string, call: string): TemplateArgs {
  const args: TemplateArgs = { positional: [], named: {} };
  if (inner.trim() === "") return args;
  ARG.lastIndex = 0;
  while (ARG.lastIndex < inner.length) {
    const start = ARG.lastIndex;
    const match = ARG.exec(inner);
    if (match === null || match.index !== start) {
      throw new StrongboxError(
        "INVALID_OPTIONS",
        `template ${call}: arguments are quoted strings, optionally named (key='value')`,
      );
    }
    const value = (match[2] ?? match[3] ?? "").replace(/\\(.)/g, "$1");
    if (match[1] === undefined) {
      if (Object.keys(args.named).length > 0) {
        throw new StrongboxError(
          "INVALID_OPTIONS",
          `template ${call}: a positional argument follows a named one`,
        );
      }
      args.positional.push(value);
    } else args.named[match[1]] = value;
  }
  return args;
}
