import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Http2ServerRequest, Http2ServerResponse, constants as http2Constants } from 'node:http2';
import type {
  BilledTotals,
  BilledUsage,
  MockEndpoint,
  MockProviderName,
  ServedRequest,
} from '../served-request';

/** A request from either listener: HTTP/1.1 or plain-text HTTP/2 (Bedrock's default). */
export type HttpRequest = IncomingMessage | Http2ServerRequest;
/** The response to an `HttpRequest`, through Node's HTTP/2 compatibility API where it applies. */
export type HttpResponse = ServerResponse | Http2ServerResponse;

/**
 * One streamed event (a server-sent event, or an AWS event-stream message), and the output
 * tokens it carries for billing once written.
 */
export interface Frame {
  data: string | Uint8Array;
  outputTokens: number;
  reasoningTokens: number;
  /** The JSON the event carries, kept so another framing can re-wrap it (Bedrock's InvokeModel stream). */
  payload?: unknown;
}

/** Prompt tokens split the way they are billed. */
export interface InputUsage {
  inputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
}

/** What an endpoint answers: one JSON body, or a stream of events billed as they are written. */
export type Reply =
  | { type: 'json'; status: number; body: unknown; usage: BilledUsage; headers?: Record<string, string> }
  | {
      type: 'events';
      input: InputUsage;
      frames: Frame[];
      /** @default 'text/event-stream; charset=utf-8' */
      contentType?: string;
      headers?: Record<string, string>;
    };

/** The record behind `ServedRequest`: the same object, writable from inside the package. */
export interface RequestRecord extends ServedRequest {
  model: string;
  stream: boolean;
  body: unknown;
  completed: boolean;
  clientAborted: boolean;
  billed: BilledUsage;
  status: number;
}

export function emptyUsage(): BilledUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
    reasoningOutputTokens: 0,
  };
}

export function emptyTotals(): BilledTotals {
  return { ...emptyUsage(), requests: 0 };
}

const CLIENT_CLOSED_REQUEST = 499;

/**
 * One request/response pair: owns the record, the billing as bytes go out, the pauses that a
 * client hang-up cuts short, and writing JSON or event streams with back-pressure.
 */
export class Exchange {
  readonly record: RequestRecord;
  /** Set once the connection is gone, by the client or by an injected disconnect. */
  closed = false;
  readonly #response: HttpResponse;
  readonly #totals: BilledTotals;
  readonly #onSettled: () => void;
  #wake: (() => void) | undefined;
  #cutByServer = false;
  /** Frames handed to the response, and those whose write has completed. */
  #writes = 0;
  #written = 0;

  constructor(
    request: HttpRequest,
    response: HttpResponse,
    route: { provider: MockProviderName; endpoint: MockEndpoint },
    id: string,
    totals: BilledTotals,
    onSettled: () => void,
  ) {
    this.#response = response;
    this.#totals = totals;
    this.#onSettled = onSettled;
    totals.requests++;
    this.record = {
      id,
      provider: route.provider,
      endpoint: route.endpoint,
      model: '',
      stream: false,
      body: undefined,
      httpVersion: request.httpVersion,
      headers: flattenHeaders(request.headers),
      receivedAtMs: Date.now(),
      completed: false,
      clientAborted: false,
      billed: emptyUsage(),
      status: 0,
    };
    response.once('close', () => this.#settle());
  }

  /** Waits `millis`, or less if the connection closes meanwhile. */
  pause(millis: number): Promise<void> {
    if (millis <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, millis);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Sends `body` as JSON with `status` and the given headers; bills `usage` as it goes out. */
  sendJson(status: number, body: unknown, headers: Record<string, string>, usage?: BilledUsage): void {
    if (this.closed) return;
    const text = JSON.stringify(body);
    this.record.status = status;
    (this.#response as ServerResponse).writeHead(status, {
      'content-type': 'application/json',
      ...headers,
      'content-length': Buffer.byteLength(text),
    });
    if (usage) this.#bill(usage);
    this.#response.end(text);
  }

  /**
   * Streams `frames` (server-sent events unless `contentType` says otherwise), `delayMillis`
   * apart, billing each frame's tokens as it is written. Stops at a client hang-up; cuts the
   * connection (HTTP/2: resets the stream) after `cutAfter` frames.
   */
  async sendEvents(
    frames: readonly Frame[],
    input: InputUsage,
    headers: Record<string, string>,
    delayMillis: number,
    cutAfter: number | undefined,
    contentType = 'text/event-stream; charset=utf-8',
  ): Promise<void> {
    if (this.closed) return;
    this.record.status = 200;
    (this.#response as ServerResponse).writeHead(200, {
      ...headers,
      'content-type': contentType,
      'cache-control': 'no-cache',
    });
    this.#bill({ ...input, outputTokens: 0, reasoningOutputTokens: 0 });

    if (delayMillis <= 0 && cutAfter === undefined) {
      const parts: Buffer[] = [];
      for (const frame of frames) {
        parts.push(typeof frame.data === 'string' ? Buffer.from(frame.data) : Buffer.from(frame.data));
        this.#billFrame(frame);
      }
      this.#response.end(Buffer.concat(parts));
      return;
    }

    for (let index = 0; index < frames.length; index++) {
      if (this.closed) return;
      if (index === cutAfter) {
        await this.#cut();
        return;
      }
      const frame = frames[index]!;
      this.#writes++;
      const flushed = (this.#response as ServerResponse).write(frame.data, () => {
        this.#written++;
      });
      this.#billFrame(frame);
      if (!flushed) await this.#drained();
      if (delayMillis > 0 && index < frames.length - 1) await this.pause(delayMillis);
    }
    if (this.closed) return;
    if (cutAfter !== undefined && cutAfter >= frames.length) {
      // Asked to cut after more events than the stream has: cut before the response ends cleanly.
      await this.#cut();
      return;
    }
    this.#response.end();
  }

  /** Closes the connection without finishing the response, after flushing what was written. */
  async #cut(): Promise<void> {
    this.#cutByServer = true;
    if (this.#response instanceof Http2ServerResponse) {
      // One HTTP/2 connection carries many requests: reset this stream only, once the frames
      // written so far are out (a reset discards DATA still queued for the stream).
      const stream = this.#response.stream;
      while (this.#written < this.#writes && !this.closed)
        await new Promise((resolve) => setImmediate(resolve));
      stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    // The client sees the response start (HTTP/2 sends headers at once), then the connection drop.
    if (this.#writes === 0) this.#response.flushHeaders();
    const socket = this.#response.socket;
    // destroy() would drop bytes still queued in the socket; end() sends them, then FIN.
    if (socket) socket.end();
    else this.#response.destroy();
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#response.off('drain', done);
        this.#wake = undefined;
        resolve();
      };
      this.#response.on('drain', done);
      this.#wake = done;
    });
  }

  #billFrame(frame: Frame): void {
    if (frame.outputTokens === 0 && frame.reasoningTokens === 0) return;
    this.record.billed.outputTokens += frame.outputTokens;
    this.record.billed.reasoningOutputTokens += frame.reasoningTokens;
    this.#totals.outputTokens += frame.outputTokens;
    this.#totals.reasoningOutputTokens += frame.reasoningTokens;
  }

  #bill(usage: BilledUsage): void {
    const billed = this.record.billed;
    const totals = this.#totals;
    billed.inputTokens += usage.inputTokens;
    billed.outputTokens += usage.outputTokens;
    billed.cacheReadInputTokens += usage.cacheReadInputTokens;
    billed.cacheWriteInputTokens += usage.cacheWriteInputTokens;
    billed.reasoningOutputTokens += usage.reasoningOutputTokens;
    totals.inputTokens += usage.inputTokens;
    totals.outputTokens += usage.outputTokens;
    totals.cacheReadInputTokens += usage.cacheReadInputTokens;
    totals.cacheWriteInputTokens += usage.cacheWriteInputTokens;
    totals.reasoningOutputTokens += usage.reasoningOutputTokens;
  }

  /**
   * HTTP/1.1: every byte went out. HTTP/2: the response ended and the stream closed without a
   * reset (Node's compatibility response emits 'finish' even for a stream the client cancelled).
   */
  #wholeResponseSent(): boolean {
    const response = this.#response;
    if (!(response instanceof Http2ServerResponse)) return response.writableFinished;
    return response.writableEnded && response.stream.rstCode === http2Constants.NGHTTP2_NO_ERROR;
  }

  #settle(): void {
    this.closed = true;
    if (!this.#cutByServer && this.#wholeResponseSent()) {
      this.record.completed = true;
    } else {
      if (!this.#cutByServer) this.record.clientAborted = true;
      if (!this.#response.headersSent) this.record.status = CLIENT_CLOSED_REQUEST;
    }
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    this.#onSettled();
  }
}

/** Header names lower-cased, repeats joined; HTTP/2 pseudo-headers (`:path`, ...) left out. */
function flattenHeaders(headers: HttpRequest['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name in headers) {
    if (name.startsWith(':')) continue;
    const value = headers[name];
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
