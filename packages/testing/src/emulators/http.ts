import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** A request as an emulator's handler sees it. */
export interface EmulatorRequest {
  method: string;
  /** The path as sent (still percent-encoded). */
  rawPath: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON (`undefined` when empty); throws on malformed JSON. */
  json<T = unknown>(): T;
}

/** What a handler answers. An object or array `body` is sent as JSON. */
export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
}

/** Faults an emulator injects, for the adapters' failure tests. */
export interface Faults {
  /** Delays every response by this many ms. */
  latencyMs: number;
  /** The next `count` requests fail with this status (and the emulator's error body for it, unless one is given). */
  failNext(
    count: number,
    status: number,
    body?: EmulatorResponse["body"],
    headers?: Record<string, string>,
  ): void;
  /** The next `count` requests get their connection destroyed without an answer. */
  dropNext(count: number): void;
  /** Clears every fault. */
  reset(): void;
}

/** A running emulator. */
export interface HttpEmulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly faults: Faults;
  /** Every request received so far, in order (method and path), for counting calls. */
  readonly requests: { method: string; path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** Options of {@link startHttpEmulator}. */
export interface HttpEmulatorOptions {
  /** Builds the provider's error body for an injected status. */
  errorBody?: (status: number) => EmulatorResponse["body"];
  /** Headers sent on every response (Elasticsearch's `x-elastic-product`). */
  headers?: Record<string, string>;
  /** Port to listen on. @default 0 (a random free port) */
  port?: number;
  /** Called for parse errors of the HTTP layer (some SDKs send malformed requests). @default destroy the socket quietly */
  onClientError?: (error: Error, socket: Socket) => void;
}

/**
 * Starts a `node:http` server on 127.0.0.1 that hands each request to `handler`,
 * with fault injection. Every emulator in this package is built on it.
 */
export async function startHttpEmulator(
  handler: (request: EmulatorRequest) => EmulatorResponse | Promise<EmulatorResponse>,
  options: HttpEmulatorOptions = {},
): Promise<HttpEmulator> {
  let failures:
    | { count: number; status: number; body?: EmulatorResponse["body"]; headers?: Record<string, string> }
    | undefined;
  let drops = 0;
  const requests: HttpEmulator["requests"] = [];
  const sockets = new Set<Socket>();
  const faults: Faults = {
    latencyMs: 0,
    failNext(count, status, body, headers) {
      failures = { count, status, body, headers };
    },
    dropNext(count) {
      drops = count;
    },
    reset() {
      failures = undefined;
      drops = 0;
      faults.latencyMs = 0;
    },
  };

  const send = (res: ServerResponse, response: EmulatorResponse): void => {
    const { body } = response;
    const isJson = body !== undefined && typeof body === "object" && !Buffer.isBuffer(body);
    const payload = body === undefined ? undefined : isJson ? JSON.stringify(body) : body;
    const headers: Record<string, string> = { ...options.headers, ...response.headers };
    if (isJson && !Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) {
      headers["content-type"] = "application/json";
    }
    if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
    res.writeHead(response.status, headers);
    res.end(payload);
  };

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawPath = (req.url ?? "/").split("?")[0] as string;
    requests.push({ method: req.method ?? "GET", path: rawPath, headers: req.headers });
    if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    if (drops > 0) {
      drops -= 1;
      req.socket.destroy();
      return;
    }
    if (failures !== undefined && failures.count > 0) {
      failures.count -= 1;
      const { status } = failures;
      send(res, {
        status,
        headers: failures.headers,
        body: failures.body ?? options.errorBody?.(status) ?? { message: `injected ${status}` },
      });
      return;
    }
    const body = Buffer.concat(chunks);
    const request: EmulatorRequest = {
      method: req.method ?? "GET",
      rawPath,
      url: new URL(req.url ?? "/", "http://127.0.0.1"),
      headers: req.headers,
      body,
      json: <T>() => (body.length === 0 ? undefined : JSON.parse(body.toString("utf8"))) as T,
    };
    try {
      send(res, await handler(request));
    } catch (error) {
      send(res, {
        status: 500,
        body: options.errorBody?.(500) ?? { message: `emulator error: ${(error as Error).message}` },
      });
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("clientError", options.onClientError ?? ((_error, socket) => socket.destroy()));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
