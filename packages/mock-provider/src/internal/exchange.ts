import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  BilledTotals,
  BilledUsage,
  MockEndpoint,
  MockProviderName,
  ServedRequest,
} from '../served-request';

/** One server-sent event, and the output tokens it carries for billing once written. */
export interface Frame {
  text: string;
  outputTokens: number;
  reasoningTokens: number;
}

/** Prompt tokens split the way they are billed. */
export interface InputUsage {
  inputTokens: number;
  cacheReadInputTokens: number;
  cacheWriteInputTokens: number;
}

/** What an endpoint answers: one JSON body, or a stream of events billed as they are written. */
export type Reply =
  | { type: 'json'; status: number; body: unknown; usage: BilledUsage }
  | { type: 'events'; input: InputUsage; frames: Frame[] };

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
  readonly #response: ServerResponse;
  readonly #totals: BilledTotals;
  readonly #onSettled: () => void;
  #wake: (() => void) | undefined;
  #cutByServer = false;

  constructor(
    request: IncomingMessage,
    response: ServerResponse,
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
    this.#response.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    if (usage) this.#bill(usage);
    this.#response.end(text);
  }

  /**
   * Streams `frames` as `text/event-stream`, `delayMillis` apart, billing each frame's tokens as
   * it is written. Stops at a client hang-up; destroys the socket after `cutAfter` frames.
   */
  async sendEvents(
    frames: readonly Frame[],
    input: InputUsage,
    headers: Record<string, string>,
    delayMillis: number,
    cutAfter: number | undefined,
  ): Promise<void> {
    if (this.closed) return;
    this.record.status = 200;
    this.#response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
    this.#bill({ ...input, outputTokens: 0, reasoningOutputTokens: 0 });

    if (delayMillis <= 0 && cutAfter === undefined) {
      let body = '';
      for (const frame of frames) {
        body += frame.text;
        this.#billFrame(frame);
      }
      this.#response.end(body);
      return;
    }

    for (let index = 0; index < frames.length; index++) {
      if (this.closed) return;
      if (index === cutAfter) {
        this.#cut();
        return;
      }
      const frame = frames[index]!;
      const flushed = this.#response.write(frame.text);
      this.#billFrame(frame);
      if (!flushed) await this.#drained();
      if (delayMillis > 0 && index < frames.length - 1) await this.pause(delayMillis);
    }
    if (this.closed) return;
    if (cutAfter !== undefined && cutAfter >= frames.length) {
      // Asked to cut after more events than the stream has: cut before the response ends cleanly.
      this.#cut();
      return;
    }
    this.#response.end();
  }

  /** Closes the connection without finishing the response, after flushing what was written. */
  #cut(): void {
    this.#cutByServer = true;
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

  #settle(): void {
    this.closed = true;
    if (this.#response.writableFinished) {
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

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
