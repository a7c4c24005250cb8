import { isStrongboxError, type StrongboxError, type StrongboxErrorCode } from "@strongbox/core";
import { vi } from "vitest";

/**
 * The error a promise rejects with. Fails when it resolves, or when there is no
 * promise at all (an optional method the backend lacks).
 *
 * @example
 * const error = await rejectionOf(backend.put?.(ref, "v", { expectedVersion: "9" }));
 */
export async function rejectionOf(promise: Promise<unknown> | undefined): Promise<unknown> {
  if (promise === undefined) throw new Error("expected a rejection, but the method is missing");
  return promise.then(
    () => {
      throw new Error("expected a rejection, but the promise resolved");
    },
    (error: unknown) => error,
  );
}

/** Like {@link rejectionOf}, and the error must be a `StrongboxError` (with `code`, when given). */
export async function strongboxRejection(
  promise: Promise<unknown> | undefined,
  code?: StrongboxErrorCode,
): Promise<StrongboxError> {
  const error = await rejectionOf(promise);
  if (!isStrongboxError(error)) throw new Error(`expected a StrongboxError, got ${String(error)}`);
  if (code !== undefined && error.code !== code)
    throw new Error(`expected code ${code}, got ${error.code}: ${error.message}`);
  return error;
}

/**
 * Runs `act` with every timer of at least `minDelayMs` (retry waits) fired at
 * once, and returns the delays that were asked for, in order.
 */
export async function recordRetryDelays(
  act: () => Promise<unknown>,
  options: { minDelayMs?: number } = {},
): Promise<number[]> {
  const threshold = options.minDelayMs ?? 10_000;
  const delays: number[] = [];
  const original = globalThis.setTimeout;
  const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((handler: () => void, ms?: number) => {
    if ((ms ?? 0) < threshold) return original(handler, ms);
    delays.push(ms ?? 0);
    return original(handler, 0);
  }) as typeof setTimeout);
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  return delays;
}
