import type { CachedReply } from './cached-reply';

/**
 * Headers never replayed: a cookie the provider set for one client is not another's. Every other
 * header is kept as received, `content-length` and `content-encoding` included, because an SDK may
 * hand the headers to the caller (`withResponse()`, Gemini's `sdkHttpResponse`); nothing decodes
 * or measures the body by them once the SDK has the response.
 */
const PRIVATE_HEADERS = new Set(['set-cookie', 'set-cookie2']);

/** A fresh `Response` carrying a stored reply: the SDK parses it as it parsed the original. */
export function replayResponse(reply: CachedReply): Response {
  const response = new Response(reply.body.byteLength > 0 ? reply.body : null, {
    status: reply.status,
    statusText: reply.statusText,
    headers: reply.headers.map(([name, value]) => [name, value]),
  });
  // `url` is a getter reading an internal slot a constructed Response leaves empty.
  Object.defineProperty(response, 'url', { value: reply.url });
  return response;
}

/**
 * Keeps a copy of a response's body as the SDK reads it, for the cache. The SDK gets a
 * `Response` with the same status, headers and bytes, pulled from the original as it reads —
 * nothing is read ahead and nothing read twice. The copy is whole only when the body was read to
 * its end: a consumer that stops early cancels the original, and nothing is kept.
 */
export class ReplyRecorder {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  private whole = false;
  private tooLarge = false;
  private status = 0;
  private statusText = '';
  private url = '';
  private headers: Array<[string, string]> = [];

  constructor(private readonly maxBytes: number) {}

  /** The response to hand the SDK in place of `response`. */
  record(response: Response): Response {
    this.status = response.status;
    this.statusText = response.statusText;
    this.url = response.url;
    this.headers = [...response.headers].filter(([name]) => !PRIVATE_HEADERS.has(name.toLowerCase()));
    const source = response.body;
    if (!source) {
      this.whole = true;
      return response;
    }
    const reader = source.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const next = await reader.read();
          if (next.done) {
            this.whole = true;
            controller.close();
            return;
          }
          this.keep(next.value);
          controller.enqueue(next.value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
    const recorded = new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    Object.defineProperty(recorded, 'url', { value: response.url });
    return recorded;
  }

  /** The reply, once its body was read to the end within the size limit; undefined otherwise. */
  reply(): CachedReply | undefined {
    if (!this.whole || this.tooLarge) return undefined;
    const body = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return {
      status: this.status,
      statusText: this.statusText,
      url: this.url,
      headers: this.headers,
      body,
      storedAtMs: Date.now(),
    };
  }

  private keep(chunk: Uint8Array): void {
    if (this.tooLarge) return;
    this.size += chunk.byteLength;
    if (this.size > this.maxBytes) {
      this.tooLarge = true;
      this.chunks.length = 0;
      return;
    }
    this.chunks.push(chunk);
  }
}
