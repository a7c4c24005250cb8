import type { ClientRequestOptions, IRequestClient } from "@1password/connect";

/**
 * The HTTP client the adapter gives the SDK in place of its axios one. The SDK's
 * own client rejects with the response body alone, so a proxy's HTML error page
 * (a 502 from a load balancer) arrives without its status and cannot be told
 * from a refusal. This one always rejects with a plain `{ status, message }`
 * (Connect's own error shape), or `{ code, message }` for a network failure or
 * a timeout; never with the request, its token or its body.
 */
export function fetchClient(timeout: number): IRequestClient {
  return {
    defaultTimeout: timeout,
    async request(method, url, opts: ClientRequestOptions) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: method.toUpperCase(),
          headers: {
            accept: "application/json",
            "content-type": "application/json",
            "user-agent": "strongbox-onepassword",
            authorization: `Bearer ${opts.authToken}`,
          },
          ...(opts.data === undefined
            ? {}
            : { body: typeof opts.data === "string" ? opts.data : JSON.stringify(opts.data) }),
          signal: AbortSignal.timeout(opts.timeout ?? timeout),
        });
      } catch (error) {
        throw networkFailure(error, opts.timeout ?? timeout);
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw networkFailure(error, opts.timeout ?? timeout);
      }
      let data: unknown = text === "" ? undefined : text;
      try {
        if (text !== "") data = JSON.parse(text);
      } catch {
        // not JSON: a proxy's page; only its status is used below
      }
      if (!response.ok) {
        const message = (data as { message?: unknown } | undefined)?.message;
        throw {
          status: response.status,
          message: typeof message === "string" ? message : `${response.status} ${response.statusText}`.trim(),
        };
      }
      return { status: response.status, data };
    },
  };
}

function networkFailure(error: unknown, timeout: number): { code: string; message: string } {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError")
    return { code: "ETIMEDOUT", message: `timeout of ${timeout}ms exceeded` };
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return {
    code: typeof code === "string" ? code : "ENETWORK",
    message: typeof code === "string" ? code : "network error",
  };
}
