import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { styleText } from "node:util";
import {
  createSecretManager,
  isStrongboxError,
  loadConfig,
  mergeDeep,
  type SecretManager,
  type SecretRef,
  StrongboxError,
  type StrongboxErrorCode,
} from "@strongbox/core";
import { parse as parseYaml } from "yaml";

/** What the command's global flags say. */
export interface GlobalOptions {
  /** `--config <file>` (or `STRONGBOX_CONFIG`). */
  config?: string;
  /** `--set path=value`: configuration overrides, highest precedence. */
  set?: string[];
  /** `--prefix`: shortcut for `--set secret.prefix=...`. */
  prefix?: string;
  /** `--output text|table|json`. */
  output?: string;
  /** `--service`: who the command runs as, for isolation and audit. @default "cli" */
  service?: string;
}

/**
 * Exit codes, one per kind of failure, so scripts can act on them (documented in the README).
 */
export const EXIT_CODES: Readonly<Record<string, number>> = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  INVALID_CONFIG: 4,
  DENIED: 5,
  CONFLICT: 6,
  DECRYPT_FAILED: 7,
  UNAVAILABLE: 8,
  UNSUPPORTED: 9,
  INTERRUPTED: 130,
};

const BY_CODE: Partial<Record<StrongboxErrorCode, number>> = {
  NOT_FOUND: 3,
  INVALID_OPTIONS: 4,
  INVALID_NAME: 4,
  ACCESS_DENIED: 5,
  READ_ONLY: 5,
  CONFLICT: 6,
  DECRYPT_FAILED: 7,
  UNAVAILABLE: 8,
  UNSUPPORTED: 9,
};

const HINTS: Partial<Record<StrongboxErrorCode, string>> = {
  INVALID_OPTIONS: "check the configuration (`strongbox doctor` shows where it comes from)",
  DECRYPT_FAILED: "the configured key does not open this store: check secret / secret-file",
  UNAVAILABLE: "the store cannot be reached: check the URL, the network and that the server runs",
  ACCESS_DENIED: "the store refused the credentials",
  READ_ONLY: "the configuration sets read-only: writes are refused",
};

/** A failure of the command itself (usage, files), with its exit code. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_CODES.ERROR as number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The exit code and the lines to print for an error: never a value, never a stack. */
export function describeFailure(error: unknown): { exitCode: number; lines: string[] } {
  if (error instanceof CliError) return { exitCode: error.exitCode, lines: [error.message] };
  if (isStrongboxError(error)) {
    const hint = HINTS[error.code];
    return {
      exitCode: BY_CODE[error.code] ?? 1,
      lines: [`${error.message} (${error.code})`, ...(hint ? [`hint: ${hint}`] : [])],
    };
  }
  return {
    exitCode: 1,
    lines: [`unexpected error: ${error instanceof Error ? error.message : String(error)}`],
  };
}

/** `"red"` text on a terminal that wants colour, plain text otherwise (NO_COLOR, pipes). */
export function paint(
  format: Parameters<typeof styleText>[0],
  text: string,
  stream: NodeJS.WriteStream,
): string {
  return styleText(format, text, { stream, validateStream: true });
}

/** The configuration files looked at, in order, and the one that exists. */
export function configCandidates(globals: GlobalOptions): {
  candidates: string[];
  found: string | undefined;
} {
  const explicit = globals.config ?? process.env.STRONGBOX_CONFIG;
  const candidates = explicit
    ? [resolve(explicit)]
    : [resolve("strongbox.yaml"), join(homedir(), ".config", "strongbox", "config.yaml")];
  return { candidates, found: candidates.find((file) => existsSync(file)) };
}

/**
 * The raw configuration, by precedence: flags (`--set`, `--prefix`), then `STRONGBOX_*`
 * variables, then the file, then defaults (`type: jdbc` when only a jdbc block is given).
 */
export async function loadRawConfig(globals: GlobalOptions): Promise<Record<string, unknown>> {
  const explicit = globals.config ?? process.env.STRONGBOX_CONFIG;
  const overrides: Record<string, unknown> = {};
  for (const assignment of globals.set ?? []) setPath(overrides, assignment);
  if (globals.prefix !== undefined) setPath(overrides, `secret.prefix=${globals.prefix}`);
  // The flags go in as overrides, so a file field they replace needs none of its ${VAR}s.
  const raw = await loadConfig(explicit ? { file: explicit, overrides } : { overrides });
  const secret = raw.secret as Record<string, unknown> | undefined;
  if (secret === undefined || Object.keys(secret).length === 0) {
    const { candidates } = configCandidates(globals);
    throw new CliError(
      `no configuration found (looked at ${candidates.join(", ")} and STRONGBOX_SECRET__* variables): run \`strongbox init\` or pass --config`,
      EXIT_CODES.INVALID_CONFIG,
    );
  }
  if (secret.type === undefined && secret.jdbc !== undefined) secret.type = "jdbc";
  return raw;
}

function setPath(target: Record<string, unknown>, assignment: string): void {
  const at = assignment.indexOf("=");
  if (at <= 0)
    throw new CliError(`--set expects path=value, e.g. secret.jdbc.url=sqlite:./s.db`, EXIT_CODES.USAGE);
  const path = assignment.slice(0, at).split(".");
  const text = assignment.slice(at + 1);
  let value: unknown = text;
  try {
    value = parseYaml(text) ?? text;
  } catch {
    value = text;
  }
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    node[part] = typeof next === "object" && next !== null ? next : {};
    node = node[part] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
}

/** Builds the manager the command works through (the same configuration as the library). */
export async function openManager(
  globals: GlobalOptions,
  override?: Record<string, unknown>,
): Promise<SecretManager> {
  const raw = await loadRawConfig(globals);
  return createSecretManager(override ? mergeDeep(raw, override) : raw, {
    service: globals.service ?? "cli",
  });
}

/** Opens the manager, runs `fn`, closes the manager. */
export async function withManager<T>(
  globals: GlobalOptions,
  fn: (manager: SecretManager) => Promise<T>,
  override?: Record<string, unknown>,
): Promise<T> {
  const manager = await openManager(globals, override);
  try {
    return await fn(manager);
  } finally {
    await manager.close();
  }
}

/** `--namespace`, `--tenant` and the key as a ref. */
export function refFrom(key: string, options: { namespace?: string; tenant?: string }): SecretRef {
  const ref: SecretRef = { key };
  if (options.tenant !== undefined) ref.tenant = options.tenant;
  if (options.namespace !== undefined) ref.namespace = options.namespace;
  return ref;
}

/** Collects repeated `--tag k=v` flags into a map. */
export function collectTag(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) throw new CliError(`--tag expects name=value, got "${value}"`, EXIT_CODES.USAGE);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** Collects a repeated flag into a list. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The output format: `json` or the command's text form. */
export function outputOf(globals: GlobalOptions, local?: string): "json" | "table" | "text" {
  const format = local ?? globals.output ?? "text";
  if (format !== "json" && format !== "table" && format !== "text") {
    throw new CliError(`--output must be text, table or json (got "${format}")`, EXIT_CODES.USAGE);
  }
  return format;
}

/** Fails with a clear error when the store lacks an operation. */
export function unsupported(operation: string, type: string): StrongboxError {
  return new StrongboxError("UNSUPPORTED", `the ${type} store cannot ${operation}`, {
    backend: type,
    operation,
  });
}
