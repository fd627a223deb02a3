/**
 * One provider reply as it came over the wire: status, the headers the SDK reads, and the body
 * bytes exactly as received (the JSON of a response, or every byte of an SSE stream). Replayed
 * as a fresh `Response`, the SDK builds from it what it built the first time.
 */
export interface CachedReply {
  status: number;
  statusText: string;
  /** The request URL the reply answered (what `response.url` reads). */
  url: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array;
  /** When the reply was stored (epoch milliseconds). */
  storedAtMs: number;
}

/** Bytes a reply takes in a store: its body, and a rough allowance for the rest. */
export function replySize(reply: CachedReply): number {
  let size = reply.body.byteLength + reply.url.length + 64;
  for (const [name, value] of reply.headers) size += name.length + value.length;
  return size;
}
