/** Where a client sends its requests, for `server.address` / `server.port`. */
export interface Endpoint {
  /** Host name, or a bare IPv6 address (no brackets). */
  readonly address?: string;
  readonly port?: number;
}

const NO_ENDPOINT: Endpoint = Object.freeze({});
/** Clients keep one base URL for their lifetime, so a few entries cover a process. */
const MAX_REMEMBERED = 64;
const remembered = new Map<string, Endpoint>();

/**
 * Host and port of an SDK client's base URL. Parsed once per URL: every call of a client
 * passes the same string, and `new URL()` on each call was a measurable share of the gate.
 */
export function endpointOf(baseURL: string | undefined): Endpoint {
  if (!baseURL) return NO_ENDPOINT;
  let endpoint = remembered.get(baseURL);
  if (endpoint) return endpoint;
  endpoint = parseEndpoint(baseURL);
  if (remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(baseURL, endpoint);
  return endpoint;
}

function parseEndpoint(baseURL: string): Endpoint {
  try {
    const url = new URL(baseURL);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    // `URL.hostname` keeps an IPv6 literal's brackets; `server.address` is the bare address.
    return Object.freeze({ address: url.hostname.replace(/^\[(.*)\]$/, '$1'), port });
  } catch {
    return NO_ENDPOINT;
  }
}
