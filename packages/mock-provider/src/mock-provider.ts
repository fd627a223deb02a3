import type { ServerResponse } from 'node:http';
import type { Fault, StatusFault } from './faults';
import { notFound, rateLimitHeaders, rateLimitMessage, responseHeaders } from './internal/dialects';
import { DualProtocolListener } from './internal/dual-protocol-listener';
import { ENDPOINTS } from './internal/endpoints';
import { errorReply } from './internal/error-bodies';
import {
  Exchange,
  emptyTotals,
  type HttpRequest,
  type HttpResponse,
  type RequestRecord,
} from './internal/exchange';
import { FaultQueue } from './internal/fault-queue';
import { IdSequence } from './internal/id-sequence';
import { hostForUrl, isLoopbackHost } from './internal/loopback';
import { RateLimitWindows } from './internal/rate-limit-window';
import { BodyTooLargeError, readBody } from './internal/read-body';
import { isRecord, type ReplyContext } from './internal/reply-context';
import { matchRoute } from './internal/routes';
import {
  DEFAULT_BEHAVIOUR,
  type MockBehaviour,
  type MockProviderOptions,
  mergeBehaviour,
} from './mock-options';
import type { BilledTotals, ServedRequest } from './served-request';
import { countMockInputTokens } from './token-scheme';

/** A running mock provider. */
export interface MockProvider {
  /**
   * Server root, e.g. `http://127.0.0.1:54321`. Pass as `httpOptions.baseUrl` to `GoogleGenAI`
   * (Gemini API and Vertex AI) and as `endpoint` to `BedrockRuntimeClient`; HTTP/1.1 and
   * plain-text HTTP/2 are both served on it.
   */
  readonly url: string;
  /** `url + '/v1'`: pass as `new OpenAI({ baseURL })`. */
  readonly openaiBaseUrl: string;
  /** `url`: pass as `new Anthropic({ baseURL })` (the SDK appends `/v1/messages`). */
  readonly anthropicBaseUrl: string;
  readonly port: number;
  /** The behaviour in force now. */
  readonly behaviour: Readonly<MockBehaviour>;
  /** Every request served since start or `reset()`, in arrival order (unknown paths excluded). */
  requests(): readonly ServedRequest[];
  /** Tokens billed since start or `reset()`, summed over all requests, partial streams included. */
  billed(): BilledTotals;
  /** Forgets recorded requests, billed totals, queued faults and rate-limit windows; keeps behaviour. */
  reset(): void;
  /** Queues a fault for the next matching request(s). */
  inject(fault: Fault): void;
  /** Changes behaviour knobs for requests that arrive from now on. */
  configure(options: Partial<MockBehaviour>): void;
  /** Resolves once every request received so far has finished, failed or been abandoned. */
  whenIdle(): Promise<void>;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Starts a loopback HTTP server that speaks the OpenAI, Anthropic, Gemini API / Vertex AI and
 * Bedrock Runtime wire protocols well enough for the official SDKs, billing tokens by a
 * deterministic scheme.
 *
 * @param options port, host and initial behaviour.
 * @returns the running provider; `close()` it when done.
 * @throws RangeError for a non-loopback host or an invalid option.
 * @example
 * const mock = await startMockProvider({ outputTokens: 5 });
 * const openai = new OpenAI({ baseURL: mock.openaiBaseUrl, apiKey: 'test' });
 * await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
 * mock.billed(); // { inputTokens: 7, outputTokens: 5, ... }
 * await mock.close();
 */
export async function startMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  const { port = 0, host = '127.0.0.1', recordRequests = true, ...behaviour } = options;
  if (!isLoopbackHost(host)) {
    throw new RangeError(`mock-provider: refusing to listen on non-loopback host ${JSON.stringify(host)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`mock-provider: port must be a whole number from 0 to 65535, got ${String(port)}`);
  }
  const provider = new MockProviderServer(mergeBehaviour(DEFAULT_BEHAVIOUR, behaviour), recordRequests);
  await provider.listen(port, host);
  return provider;
}

class MockProviderServer implements MockProvider {
  url = '';
  openaiBaseUrl = '';
  anthropicBaseUrl = '';
  port = 0;
  readonly #listener: DualProtocolListener;
  readonly #recordRequests: boolean;
  readonly #faults = new FaultQueue();
  readonly #windows = new RateLimitWindows();
  readonly #ids = new IdSequence();
  #behaviour: Readonly<MockBehaviour>;
  #records: RequestRecord[] = [];
  #totals: BilledTotals = emptyTotals();
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #closing: Promise<void> | undefined;

  constructor(behaviour: MockBehaviour, recordRequests: boolean) {
    this.#behaviour = Object.freeze(behaviour);
    this.#recordRequests = recordRequests;
    this.#listener = new DualProtocolListener((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          (response as ServerResponse).writeHead(500, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({ error: { message: `mock-provider: ${String(error)}`, type: 'server_error' } }),
          );
        } else {
          response.destroy();
        }
      });
    });
  }

  get behaviour(): Readonly<MockBehaviour> {
    return this.#behaviour;
  }

  async listen(port: number, host: string): Promise<void> {
    this.port = await this.#listener.listen(port, host);
    this.url = `http://${hostForUrl(host)}:${this.port}`;
    this.openaiBaseUrl = `${this.url}/v1`;
    this.anthropicBaseUrl = this.url;
  }

  requests(): readonly ServedRequest[] {
    return this.#records.slice();
  }

  billed(): BilledTotals {
    return { ...this.#totals };
  }

  reset(): void {
    this.#records = [];
    this.#totals = emptyTotals();
    this.#faults.clear();
    this.#windows.clear();
  }

  inject(fault: Fault): void {
    this.#faults.add(fault);
  }

  configure(options: Partial<MockBehaviour>): void {
    const next = mergeBehaviour(this.#behaviour, options);
    if (options.rateLimit !== undefined) this.#windows.clear();
    this.#behaviour = Object.freeze(next);
  }

  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): Promise<void> {
    this.#closing ??= this.#listener.close();
    return this.#closing;
  }

  async #handle(request: HttpRequest, response: HttpResponse): Promise<void> {
    const route = matchRoute(request.method, request.url);
    if (!route) {
      notFound(request, response);
      return;
    }
    const handler = ENDPOINTS[route.endpoint];
    this.#inFlight++;
    const id = this.#ids.next('req_');
    const exchange = new Exchange(request, response, route, id, this.#totals, () => this.#settled());
    const record = exchange.record;
    if (this.#recordRequests) this.#records.push(record);
    const behaviour = this.#behaviour;
    const headers = responseHeaders(route.provider, id);
    const replyError = (status: number, message?: string, extra: Record<string, string> = {}) => {
      const error = errorReply(route.provider, status, id, { message });
      exchange.sendJson(status, error.body, { ...headers, ...error.headers, ...extra });
    };

    let text: string;
    try {
      text = await readBody(request, BODY_LIMIT_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) replyError(413, error.message);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      replyError(400, 'We could not parse the JSON body of your request.');
      return;
    }
    record.body = body;
    if (!isRecord(body)) {
      replyError(400, 'The request body must be a JSON object.');
      return;
    }
    record.model = route.model ?? (typeof body.model === 'string' ? body.model : '');
    record.stream = route.stream ?? body.stream === true;
    const invalid = handler.validate(body, route);
    if (invalid) {
      replyError(400, invalid);
      return;
    }

    const fault = this.#faults.take({
      provider: route.provider,
      endpoint: route.endpoint,
      model: record.model,
      stream: record.stream,
    });
    const inputTokens = countMockInputTokens(route.endpoint, body);

    if (behaviour.rateLimit !== false && !handler.free && !isStatusFault(fault)) {
      const nowMs = Date.now();
      const maxOutput = handler.maxOutputTokens(body, route) ?? behaviour.outputTokens;
      const window = this.#windows.consume(
        behaviour.rateLimit,
        route.provider,
        record.model,
        inputTokens + maxOutput,
        nowMs,
      );
      Object.assign(headers, rateLimitHeaders(route.provider, window, nowMs));
      if (!window.admitted) {
        const seconds = Math.ceil(window.retryAfterMillis / 1000);
        const error = errorReply(route.provider, 429, id, {
          message: rateLimitMessage(route.provider, record.model, window),
          rateLimitType: window.exceeded ?? 'requests',
          retryAfterMillis: window.retryAfterMillis,
        });
        exchange.sendJson(429, error.body, {
          ...headers,
          ...error.headers,
          'retry-after': String(seconds),
          'retry-after-ms': String(window.retryAfterMillis),
        });
        return;
      }
    }

    await exchange.pause(fault?.delayMillis ?? behaviour.latencyMillis);
    if (exchange.closed) return;

    if (isStatusFault(fault)) {
      const error = errorReply(route.provider, fault.status, id, {
        message: fault.message,
        retryAfterMillis: retryAfterMillis(fault),
      });
      exchange.sendJson(fault.status, error.body, { ...headers, ...error.headers, ...retryHeaders(fault) });
      return;
    }

    const context: ReplyContext = {
      body,
      provider: route.provider,
      operation: route.operation,
      requestId: id,
      model: record.model,
      stream: record.stream,
      inputTokens,
      behaviour,
      ids: this.#ids,
      malformedUsage: fault !== undefined && 'kind' in fault && fault.kind === 'malformed-usage',
      nowMs: Date.now(),
    };
    const reply = handler.reply(context);
    if (route.provider === 'openai')
      headers['openai-processing-ms'] = String(Date.now() - record.receivedAtMs);
    if (reply.type === 'json') {
      exchange.sendJson(reply.status, reply.body, { ...headers, ...reply.headers }, reply.usage);
      return;
    }
    const cutAfter =
      fault && 'kind' in fault && fault.kind === 'disconnect-mid-stream' ? fault.afterChunks : undefined;
    await exchange.sendEvents(
      reply.frames,
      reply.input,
      { ...headers, ...reply.headers },
      behaviour.chunkDelayMillis,
      cutAfter,
      reply.contentType,
    );
  }

  #settled(): void {
    this.#inFlight--;
    if (this.#inFlight > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function isStatusFault(fault: Fault | undefined): fault is StatusFault {
  return fault !== undefined && !('kind' in fault);
}

function retryAfterMillis(fault: StatusFault): number | undefined {
  if (fault.retryAfterMs !== undefined) return fault.retryAfterMs;
  return fault.retryAfterSeconds === undefined ? undefined : fault.retryAfterSeconds * 1000;
}

function retryHeaders(fault: StatusFault): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  else if (fault.retryAfterMs !== undefined)
    headers['retry-after'] = String(Math.ceil(fault.retryAfterMs / 1000));
  return headers;
}
