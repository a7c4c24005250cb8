const MASK = "******";

/**
 * A secret's value in a wrapper that never prints it: `String()`, template
 * literals, `util.inspect`, `console.log` and `JSON.stringify` all show `******`.
 * Unwrap it on purpose with {@link SecretValue.reveal} or {@link SecretValue.bytes}.
 *
 * @example
 * const value = SecretValue.from("hunter2");
 * console.log(`password: ${value}`); // password: ******
 * value.reveal(); // "hunter2"
 */
export class SecretValue {
  readonly #value: string | Uint8Array;

  private constructor(value: string | Uint8Array) {
    this.#value = value;
  }

  /** Wraps a string or bytes; a `SecretValue` is returned as it is. */
  static from(value: string | Uint8Array | SecretValue): SecretValue {
    if (value instanceof SecretValue) return value;
    return new SecretValue(typeof value === "string" ? value : new Uint8Array(value));
  }

  /** True when the store keeps this value as bytes rather than text. */
  get isBinary(): boolean {
    return typeof this.#value !== "string";
  }

  /** Size of the value in bytes (UTF-8 for text). */
  get byteLength(): number {
    return typeof this.#value === "string" ? Buffer.byteLength(this.#value, "utf8") : this.#value.byteLength;
  }

  /** The value as text (bytes are decoded as UTF-8). */
  reveal(): string {
    return typeof this.#value === "string" ? this.#value : Buffer.from(this.#value).toString("utf8");
  }

  /** The value as bytes (text is encoded as UTF-8). A copy: changing it changes nothing here. */
  bytes(): Uint8Array {
    return typeof this.#value === "string"
      ? new Uint8Array(Buffer.from(this.#value, "utf8"))
      : new Uint8Array(this.#value);
  }

  /** Compares two values in constant time for equal lengths. */
  equals(other: SecretValue | string | Uint8Array): boolean {
    const a = this.bytes();
    const b = SecretValue.from(other).bytes();
    if (a.byteLength !== b.byteLength) return false;
    let diff = 0;
    for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number);
    return diff === 0;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [Symbol.toPrimitive](): string {
    return MASK;
  }
}

// util.inspect (console.log, REPL, test diffs) shows the mask too.
Object.defineProperty(SecretValue.prototype, Symbol.for("nodejs.util.inspect.custom"), {
  value: () => `SecretValue(${MASK})`,
});

/** Anything a caller may pass as a value to write. */
export type SecretInput = string | Uint8Array | SecretValue;
