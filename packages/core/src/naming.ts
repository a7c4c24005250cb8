import { createHash } from "node:crypto";
import { StrongboxError } from "./errors.ts";
import type { ListQuery, SecretRef } from "./types.ts";

/**
 * A provider's naming rules, declared by its adapter. The codec turns a ref into
 * a name that is legal for these rules, different for every ref, and decodable.
 */
export interface NamingRules {
  /** Body of a regular-expression character class of the legal characters, e.g. `"A-Za-z0-9/_+=.@-"`. */
  alphabet: string;
  /** Legal first characters, when narrower than `alphabet` (Doppler: `"A-Z_"`). */
  firstChar?: string;
  /** Escape character; must be legal, and legal as a first character. */
  escape: string;
  /** A legal character kept to separate the parts of a name (AWS and Vault: `"/"`); without one, an escape token separates. */
  separator?: string;
  /** Longest legal name. Longer names are cut and end with a hash, so they stay distinct. */
  maxLength: number;
  /** False when the store treats `a` and `A` as one name: letters are then written in one case, with case marks. */
  caseSensitive: boolean;
}

/** `scoped`: the store is owned by Strongbox; `raw`: the key is the provider's name as it is. */
export type NamingMode = "scoped" | "raw";

/** Options of {@link nameCodec}. */
export interface NameCodecOptions {
  /** Starts every name; must be legal for the rules. */
  prefix?: string;
  /** @default "scoped" */
  mode?: NamingMode;
}

/** Turns refs into a provider's names and back. */
export interface NameCodec {
  readonly rules: NamingRules;
  readonly prefix: string | undefined;
  readonly mode: NamingMode;
  /** The provider name of a ref; throws `INVALID_NAME` for a ref that cannot be named. */
  encode(ref: SecretRef): string;
  /** The ref of a name, or `undefined` when the name is not one of this codec's (another prefix, a hashed name, foreign). */
  decode(name: string): SecretRef | undefined;
  /** The literal start shared by every name this codec makes for refs matching the query (for server-side name filters). */
  listPrefix(query?: ListQuery): string;
}

/** The rules of the providers whose names are made by the codec. */
export const namingRules: {
  readonly aws: NamingRules;
  readonly azure: NamingRules;
  readonly gcp: NamingRules;
  readonly vault: NamingRules;
  readonly doppler: NamingRules;
  readonly conjur: NamingRules;
  readonly onepassword: NamingRules;
} = {
  aws: { alphabet: "A-Za-z0-9/_+=.@-", escape: "+", separator: "/", maxLength: 512, caseSensitive: true },
  azure: { alphabet: "0-9a-zA-Z-", escape: "-", maxLength: 127, caseSensitive: false },
  gcp: { alphabet: "A-Za-z0-9_-", escape: "-", maxLength: 255, caseSensitive: true },
  vault: { alphabet: "A-Za-z0-9/_.@=~-", escape: "~", separator: "/", maxLength: 512, caseSensitive: true },
  doppler: { alphabet: "A-Z0-9_", firstChar: "A-Z_", escape: "_", maxLength: 256, caseSensitive: false },
  conjur: { alphabet: "A-Za-z0-9/_.@=~-", escape: "~", separator: "/", maxLength: 512, caseSensitive: true },
  onepassword: {
    alphabet: '^"\\\\\\u0000-\\u0020\\u007f',
    escape: "~",
    separator: "/",
    maxLength: 512,
    caseSensitive: true,
  },
};

const HASH_CHARS = 20;
const REF_PARTS = ["tenant", "namespace", "key"] as const;

/**
 * Builds the codec of one store: `prefix + tenant + namespace + key -> name`.
 *
 * Grammar of a scoped name: `[prefix SEP] [E"t" tenant SEP] [E"n" namespace SEP] key`,
 * where SEP is the separator (or the token `E"s"`), each part escapes what the
 * alphabet lacks as `E` + two hex digits per UTF-8 byte, `EE` is a literal escape,
 * `E"u"` flips the case of the letters that follow (case-insensitive stores), and a
 * name past `maxLength` is cut at a token boundary and ends with `E"h"` + a hash.
 *
 * @example
 * const codec = nameCodec(namingRules.aws, { prefix: "billing" });
 * codec.encode({ namespace: "company.team", key: "DB_PASSWORD" }); // "billing/+ncompany.team/DB_PASSWORD"
 */
export function nameCodec(rules: NamingRules, options: NameCodecOptions = {}): NameCodec {
  const grammar = compileRules(rules);
  const mode = options.mode ?? "scoped";
  const prefix = options.prefix === "" ? undefined : options.prefix;
  if (prefix !== undefined && !grammar.isLegalLiteral(prefix)) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `prefix "${prefix}" has characters outside [${rules.alphabet}] or starts with one that cannot start a name`,
    );
  }
  if (prefix !== undefined && !rules.caseSensitive && !grammar.isCanonicalCase(prefix)) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `prefix "${prefix}" mixes letter cases, but this store ignores case: write it in one case (as the store's names are)`,
    );
  }
  const head = prefix === undefined ? "" : prefix + grammar.sep;

  function encode(ref: SecretRef): string {
    validateRef(ref);
    if (mode === "raw") {
      const name = head + ref.key;
      if (!grammar.isLegalLiteral(name) || name.length > rules.maxLength) {
        throw new StrongboxError(
          "INVALID_NAME",
          `"${ref.key}" is not a legal name here (characters [${rules.alphabet}], at most ${rules.maxLength})`,
          { ref },
        );
      }
      return name;
    }
    const tokens: string[] = [];
    if (ref.tenant !== undefined)
      tokens.push(grammar.marker("t"), ...grammar.encodePart(ref.tenant), grammar.sep);
    if (ref.namespace !== undefined)
      tokens.push(grammar.marker("n"), ...grammar.encodePart(ref.namespace), grammar.sep);
    const keyTokens = grammar.encodePart(ref.key);
    if (tokens.length === 0 && prefix === undefined) grammar.fixFirst(keyTokens);
    tokens.push(...keyTokens);
    const name = head + tokens.join("");
    if (name.length <= rules.maxLength) return name;
    return grammar.shorten(head, tokens, name);
  }

  function decode(name: string): SecretRef | undefined {
    if (!name.startsWith(head)) return undefined;
    const rest = name.slice(head.length);
    if (mode === "raw") return rest === "" ? undefined : { key: rest };
    return grammar.decodeParts(rest);
  }

  function listPrefix(query: ListQuery = {}): string {
    if (mode === "raw" || typeof query.tenant !== "string") return head;
    let start = head + grammar.marker("t") + grammar.encodePart(query.tenant).join("") + grammar.sep;
    if (typeof query.namespace === "string") {
      start += grammar.marker("n") + grammar.encodePart(query.namespace).join("") + grammar.sep;
    }
    return start;
  }

  return { rules, prefix, mode, encode, decode, listPrefix };
}

/** Throws `INVALID_NAME` unless the ref is well-formed: a non-empty key, non-empty parts, well-formed text. */
export function validateRef(ref: SecretRef): void {
  if (typeof ref !== "object" || ref === null) {
    throw new StrongboxError("INVALID_NAME", "a ref is an object { tenant?, namespace?, key }");
  }
  for (const part of REF_PARTS) {
    const text = ref[part];
    if (text === undefined && part !== "key") continue;
    if (typeof text !== "string" || text.length === 0) {
      throw new StrongboxError("INVALID_NAME", `ref.${part} must be a non-empty string`, {
        ref: safeRef(ref),
      });
    }
    if (!text.isWellFormed()) {
      throw new StrongboxError("INVALID_NAME", `ref.${part} holds a lone surrogate`, { ref: safeRef(ref) });
    }
  }
  const namespace = ref.namespace;
  if (
    namespace !== undefined &&
    (namespace.startsWith(".") || namespace.endsWith(".") || namespace.includes(".."))
  ) {
    throw new StrongboxError("INVALID_NAME", `namespace "${ref.namespace}" has an empty segment`, { ref });
  }
}

function safeRef(ref: SecretRef): SecretRef {
  return { key: typeof ref.key === "string" ? ref.key : String(ref.key) };
}

interface Grammar {
  sep: string;
  marker(letter: string): string;
  encodePart(text: string): string[];
  fixFirst(tokens: string[]): void;
  decodeParts(text: string): SecretRef | undefined;
  isLegalLiteral(text: string): boolean;
  isCanonicalCase(text: string): boolean;
  shorten(head: string, tokens: string[], full: string): string;
}

function compileRules(rules: NamingRules): Grammar {
  const legal = new RegExp(`^[${rules.alphabet}]$`, "u");
  const first = new RegExp(`^[${rules.firstChar ?? rules.alphabet}]$`, "u");
  const E = rules.escape;
  if (E.length !== 1 || !legal.test(E) || !first.test(E)) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `naming: escape "${E}" must be one legal character that can start a name`,
    );
  }
  if (
    rules.separator !== undefined &&
    (rules.separator.length !== 1 || !legal.test(rules.separator) || rules.separator === E)
  ) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `naming: separator "${rules.separator}" must be one legal character other than the escape`,
    );
  }
  // Markers and hex digits take the case the alphabet has; lower case unless it has none.
  const lower = legal.test("a");
  if (!lower && !legal.test("A"))
    throw new StrongboxError("INVALID_OPTIONS", "naming: the alphabet needs letters");
  const caseOf = (text: string): string => (lower ? text.toLowerCase() : text.toUpperCase());
  const marker = (letter: string): string => E + caseOf(letter);
  const sep = rules.separator ?? marker("s");
  const hexDigit = /^[0-9a-fA-F]$/;
  for (const letter of "tnsuh") {
    if (!legal.test(caseOf(letter)))
      throw new StrongboxError("INVALID_OPTIONS", `naming: the alphabet lacks "${caseOf(letter)}"`);
  }

  const isCased = (char: string): boolean => char.toLowerCase() !== char.toUpperCase();
  const canonical = (char: string): boolean => caseOf(char) === char;
  // A character is written as it is when it is legal, not the escape or separator,
  // and (in a case-insensitive store) a letter written in the store's case.
  const plain = (char: string): boolean =>
    legal.test(char) &&
    char !== E &&
    char !== rules.separator &&
    (rules.caseSensitive || !isCased(char) || canonical(char));
  const escapeBytes = (char: string): string[] =>
    [...Buffer.from(char, "utf8")].map((byte) => E + caseOf(byte.toString(16).padStart(2, "0")));

  function encodePart(text: string): string[] {
    const tokens: string[] = [];
    let flipped = false;
    const chars = [...text];
    for (const char of chars) {
      if (char === E) {
        tokens.push(E + E);
        continue;
      }
      // The case path must round-trip: `ı` upper-cases to `I`, which lower-cases to `i`; such letters are escaped.
      if (
        !rules.caseSensitive &&
        isCased(char) &&
        legal.test(caseOf(char)) &&
        char !== rules.separator &&
        (canonical(char) || flipCase(caseOf(char)) === char)
      ) {
        const wantFlipped = !canonical(char);
        if (wantFlipped !== flipped) {
          tokens.push(marker("u"));
          flipped = wantFlipped;
        }
        tokens.push(caseOf(char));
        continue;
      }
      tokens.push(plain(char) ? char : escapeBytes(char).join(""));
    }
    // A part made of dots only would read as `.` or `..` in a path: escape its dots.
    if (chars.length > 0 && chars.every((char) => char === "."))
      return chars.map(() => escapeBytes(".").join(""));
    return tokens;
  }

  function fixFirst(tokens: string[]): void {
    const head = tokens[0];
    if (head !== undefined && head.length === 1 && !first.test(head)) tokens[0] = escapeBytes(head).join("");
  }

  function decodeParts(text: string): SecretRef | undefined {
    const parts: { kind: "tenant" | "namespace" | "key"; text: string }[] = [];
    let current: { kind: "tenant" | "namespace" | "key"; bytes: number[]; text: string } | undefined;
    let flipped = false;
    const flush = (): string => {
      if (current === undefined) return "";
      if (current.bytes.length > 0) {
        current.text += Buffer.from(current.bytes).toString("utf8");
        current.bytes = [];
      }
      return current.text;
    };
    const start = (kind: "tenant" | "namespace" | "key"): void => {
      current = { kind, bytes: [], text: "" };
      flipped = false;
    };
    const append = (char: string): void => {
      if (current === undefined) start("key");
      flush();
      (current as { text: string }).text += char;
    };
    let i = 0;
    while (i < text.length) {
      if (rules.separator === undefined ? text.startsWith(sep, i) : text[i] === rules.separator) {
        if (current === undefined || current.kind === "key") return undefined;
        parts.push({ kind: current.kind, text: flush() });
        current = undefined;
        i += sep.length;
        continue;
      }
      const char = text[i] as string;
      if (char !== E) {
        if (!legal.test(char)) return undefined;
        if (current === undefined) start("key");
        if (!rules.caseSensitive && isCased(char)) {
          if (!canonical(char)) return undefined;
          append(flipped ? flipCase(char) : char);
        } else append(char);
        i += 1;
        continue;
      }
      const next = text[i + 1];
      if (next === undefined) return undefined;
      if (next === E) {
        append(E);
        i += 2;
      } else if (hexDigit.test(next)) {
        const pair = text.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(pair) || caseOf(pair) !== pair) return undefined;
        if (current === undefined) start("key");
        (current as { bytes: number[] }).bytes.push(Number.parseInt(pair, 16));
        i += 3;
      } else if (next === caseOf("u")) {
        if (rules.caseSensitive) return undefined;
        if (current === undefined) start("key");
        flipped = !flipped;
        i += 2;
      } else if (next === caseOf("t") || next === caseOf("n")) {
        if (current !== undefined) return undefined;
        start(next === caseOf("t") ? "tenant" : "namespace");
        i += 2;
      } else return undefined; // a hashed name, or not one of ours
    }
    if (current === undefined || current.kind !== "key") return undefined;
    const key = flush();
    const kinds = parts.map((part) => part.kind).join(",");
    if (kinds !== "" && kinds !== "tenant" && kinds !== "namespace" && kinds !== "tenant,namespace")
      return undefined;
    const ref = {} as SecretRef;
    for (const part of parts) ref[part.kind] = part.text;
    ref.key = key;
    if (!Object.values(ref).every((value) => value.length > 0 && value.isWellFormed())) return undefined;
    return ref;
  }

  function flipCase(char: string): string {
    return char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase();
  }

  function isLegalLiteral(text: string): boolean {
    const chars = [...text];
    return chars.length > 0 && first.test(chars[0] as string) && chars.every((char) => legal.test(char));
  }

  function shorten(head: string, tokens: string[], full: string): string {
    const suffix =
      marker("h") + caseOf(createHash("sha256").update(full, "utf8").digest("hex").slice(0, HASH_CHARS));
    let name = head;
    for (const token of tokens) {
      if (name.length + token.length + suffix.length > rules.maxLength) break;
      name += token;
    }
    if (name.length === 0) return suffix;
    return name + suffix;
  }

  const isCanonicalCase = (text: string): boolean =>
    [...text].every((char) => !isCased(char) || canonical(char));

  return { sep, marker, encodePart, fixFirst, decodeParts, isLegalLiteral, isCanonicalCase, shorten };
}
