import { z } from "zod";
import { StrongboxError } from "./errors.ts";

/**
 * Validates options with a zod schema; a failure is an `INVALID_OPTIONS` error
 * naming the path of each bad field (`secret.aws-secret-manager.region`) and what
 * was expected, never the value given.
 *
 * @example
 * const options = parseOptions(schema, input, "secret.vault", "vault");
 */
export function parseOptions<T extends z.ZodType>(
  schema: T,
  input: unknown,
  path: string,
  backend?: string,
): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  // Configuration is written in kebab-case (DESIGN.md): name its fields that way; code options keep camelCase.
  const spell = path === "" || path.startsWith("secret") ? kebabCase : (key: string) => key;
  const problems = parsed.error.issues.map((issue) => {
    const where = [path, ...issue.path.map((key) => spell(String(key)))]
      .filter((part) => part !== "")
      .join(".");
    return `${where}: ${describeIssue(issue)}`;
  });
  throw new StrongboxError("INVALID_OPTIONS", `invalid options: ${problems.join("; ")}`, { backend });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // zod's messages can quote the received value (a secret in an options block): rebuild them without it.
  switch (issue.code) {
    case "invalid_type":
      return `expected ${issue.expected}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    case "too_small": {
      const unit = issue.origin === "string" ? " characters" : issue.origin === "array" ? " items" : "";
      return `${issue.inclusive === false ? "must be more than" : "must be at least"} ${String(issue.minimum)}${unit}`;
    }
    case "too_big": {
      const unit = issue.origin === "string" ? " characters" : issue.origin === "array" ? " items" : "";
      return `${issue.inclusive === false ? "must be less than" : "must be at most"} ${String(issue.maximum)}${unit}`;
    }
    case "unrecognized_keys":
      return `unknown option${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((key) => `"${key}"`).join(", ")}`;
    case "invalid_format":
      // A pattern's own message (written by us, never holding the input) says more than "regex".
      return issue.format === "regex" && !issue.message.startsWith("Invalid")
        ? issue.message
        : `expected a ${issue.format}`;
    default:
      return issue.message.replace(/received .*/i, "").trim() || issue.code;
  }
}

function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (char) => `-${char.toLowerCase()}`);
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: milliseconds as a number, or text such as `"60s"`, `"5m"`, `"500ms"`, `"PT1M"`. */
export const duration: z.ZodType<number, number | string> = z
  .union([z.number().nonnegative(), z.string()])
  .transform((input, ctx) => {
    if (typeof input === "number") return input;
    const text = input.trim();
    const simple = DURATION.exec(text);
    if (simple) return Number(simple[1]) * (UNIT_MS[simple[2] as string] as number);
    const iso = ISO_DURATION.exec(text);
    if (iso && text !== "P" && text !== "PT") {
      const [, days, hours, minutes, seconds] = iso;
      return (
        Number(days ?? 0) * UNIT_MS.d! +
        Number(hours ?? 0) * UNIT_MS.h! +
        Number(minutes ?? 0) * UNIT_MS.m! +
        Number(seconds ?? 0) * 1000
      );
    }
    ctx.addIssue({ code: "custom", message: "expected a duration such as 500ms, 60s, 5m, 1h or PT1M" });
    return z.NEVER;
  });

/** Tags: a map of strings. */
export const tagsSchema: z.ZodType<Record<string, string>> = z.record(z.string(), z.string());
