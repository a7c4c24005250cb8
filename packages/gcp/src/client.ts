import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import * as grpc from "@grpc/grpc-js";
import { describeCause, type SecretRef, StrongboxError, type StrongboxErrorCode } from "@strongbox/core";
import { PassThroughClient } from "google-auth-library";
import { type ResolvedOptions, TYPE } from "./options.ts";

/** gRPC status codes this backend tells apart. */
export const Code = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const RETRIED = new Set<number>([Code.UNAVAILABLE, Code.RESOURCE_EXHAUSTED]);

/** The gRPC status of an SDK error, when it has one. */
export function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Builds the SDK client from the options (no network call: the SDK connects on the first request). */
export function buildClient(options: ResolvedOptions): SecretManagerServiceClient {
  const common = {
    // The SDK's own logging can print requests, payloads included: keep it off whatever the environment says.
    enableTelemetryLogging: false,
    ...(options.project !== undefined && { projectId: options.project }),
  };
  const endpoint = options.endpoint;
  if (endpoint?.startsWith("http://")) {
    const url = new URL(endpoint);
    return new SecretManagerServiceClient({
      ...common,
      apiEndpoint: url.hostname,
      port: Number(url.port || 80),
      sslCreds: grpc.credentials.createInsecure(),
      authClient: new PassThroughClient(),
    });
  }
  const target = endpoint?.replace(/^https:\/\//, "");
  const [host, port] = target === undefined ? [] : target.split(":");
  const key = options.serviceAccount;
  return new SecretManagerServiceClient({
    ...common,
    ...(host !== undefined && { apiEndpoint: host }),
    ...(port !== undefined && { port: Number(port) }),
    ...(key !== undefined && {
      credentials: { client_email: key.client_email, private_key: key.private_key },
      ...(options.project === undefined && key.project_id !== undefined && { projectId: key.project_id }),
    }),
  });
}

/** Where a call comes from, for its error. */
export interface CallContext {
  operation: string;
  ref?: SecretRef;
}

/** Options given to every SDK call: our deadline, and the SDK's own retries off (ours are bounded). */
export interface CallOptions {
  timeout: number;
  retry: null;
}

/** Runs one API call with bounded retries of UNAVAILABLE and RESOURCE_EXHAUSTED. */
export type Caller = <T>(call: (callOptions: CallOptions) => Promise<T>, context: CallContext) => Promise<T>;

/** Builds the {@link Caller} of the options. */
export function caller(options: ResolvedOptions): Caller {
  const callOptions: CallOptions = { timeout: options.timeout, retry: null };
  return async (call, context) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(callOptions);
      } catch (error) {
        const code = codeOf(error);
        if (code === undefined || !RETRIED.has(code)) throw error;
        if (attempt >= options.retries) {
          throw new StrongboxError(
            "UNAVAILABLE",
            `unavailable after ${attempt + 1} attempt${attempt === 0 ? "" : "s"}: ${describeCause(error)}`,
            { backend: TYPE, ...context, cause: error },
          );
        }
        const delay = options.retryDelay * 2 ** attempt;
        await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
      }
    }
  };
}

const CODES: Record<number, StrongboxErrorCode> = {
  [Code.PERMISSION_DENIED]: "ACCESS_DENIED",
  [Code.UNAUTHENTICATED]: "ACCESS_DENIED",
  [Code.ALREADY_EXISTS]: "CONFLICT",
  [Code.ABORTED]: "CONFLICT",
  [Code.UNAVAILABLE]: "UNAVAILABLE",
  [Code.RESOURCE_EXHAUSTED]: "UNAVAILABLE",
  [Code.DEADLINE_EXCEEDED]: "UNAVAILABLE",
};

/** Turns any failure into a `StrongboxError` with the right code, the operation, the ref and the cause. */
export function toError(error: unknown, context: CallContext, hint?: string): StrongboxError {
  if (error instanceof StrongboxError) return error;
  const code = codeOf(error);
  const mapped = code === undefined ? "BACKEND" : (CODES[code] ?? "BACKEND");
  const message = describeCause(error) + (hint === undefined ? "" : ` (${hint})`);
  return new StrongboxError(mapped, message, { backend: TYPE, ...context, cause: error });
}

/** Runs a call; NOT_FOUND resolves `undefined`, every other failure becomes a StrongboxError. */
export async function orMissing<T>(run: () => Promise<T>, where: CallContext): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (codeOf(error) === Code.NOT_FOUND) return undefined;
    throw toError(error, where);
  }
}

/** A `catch` handler that turns any failure into a StrongboxError. */
export const fail =
  (where: CallContext) =>
  (error: unknown): never => {
    throw toError(error, where);
  };
