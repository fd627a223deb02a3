import { Readable } from 'node:stream';
import { context, diag } from '@opentelemetry/api';
import type { CachedReply, TokenUsage } from '@tollgate/core';
import {
  type CallGate,
  claimAdmittedRequest,
  type Endpoint,
  emitTollgateWarning,
  endpointOf,
  type GuardedCall,
  sendAdmitted,
} from '@tollgate/core/instrumentation';
import { type BedrockCall, describeCommand, type GatedOperation, gatedOperationOf } from './bedrock-call';
import { observeConverse, observeConverseStream } from './converse-observers';
import type {
  ClientLike,
  CommandLike,
  Middleware,
  MiddlewareResult,
  SendMethod,
  SendOptions,
} from './internal-types';
import { observeInvoke, observeInvokeStream } from './invoke-observers';
import type { BedrockInstrumentationConfig } from './types';
import { asRecord, bedrockUsage, TOKEN_COUNT_HEADERS } from './utils';

type Callback = (error: unknown, output?: unknown) => void;

/**
 * Wraps `send()` (defined on @smithy/core's `Client`, which every AWS SDK client of that copy
 * shares) so Bedrock Runtime's Converse, ConverseStream, InvokeModel and
 * InvokeModelWithResponseStream commands pass the gate before any middleware runs. Every other
 * command, of this client or any other AWS client, goes to the original untouched. The caller
 * gets what `send()` gives: a native promise of the SDK's output (with its event stream), or the
 * callback called the same way.
 */
export function gatedSend(
  original: SendMethod,
  gate: () => CallGate | undefined,
  config: () => BedrockInstrumentationConfig,
): SendMethod {
  return function send(this: ClientLike, command: unknown, optionsOrCb?: unknown, cb?: unknown): unknown {
    const operation = gatedOperationOf(command);
    const callGate = operation ? gate() : undefined;
    if (!operation || !callGate || claimAdmittedRequest())
      return original.call(this, command, optionsOrCb, cb);
    const described = describeCommand(command as CommandLike, operation, config());
    if (!described) {
      warnUngated(command as CommandLike, operation);
      return original.call(this, command, optionsOrCb, cb);
    }

    const callback = (typeof optionsOrCb === 'function' ? optionsOrCb : cb) as Callback | undefined;
    const options = typeof optionsOrCb === 'function' ? undefined : (optionsOrCb as SendOptions | undefined);
    const output = gatedRequest(this, original, callGate, command as CommandLike, described, options);
    if (typeof callback !== 'function') return output;
    // As the SDK does: the callback is called from a settled promise, and what it throws is swallowed.
    output
      .then(
        (result) => callback(null, result),
        (error: unknown) => callback(error),
      )
      .catch(() => {});
    return undefined;
  };
}

async function gatedRequest(
  client: ClientLike,
  original: SendMethod,
  gate: CallGate,
  command: CommandLike,
  described: BedrockCall,
  options: SendOptions | undefined,
): Promise<unknown> {
  const signal = options?.abortSignal;
  const endpoint = await clientEndpoint(client);
  described.request.serverAddress = endpoint.address;
  described.request.serverPort = endpoint.port;
  let call: GuardedCall;
  try {
    call = await gate.begin(described.request, context.active(), signal ? { signal } : {});
  } catch (error) {
    // The gate rejects an aborted wait with the signal's reason; the caller expects the SDK's own error.
    throw signal?.aborted ? abortError(signal) : error;
  }
  let sent: Promise<unknown>;
  try {
    const input = described.sentInput(call);
    ATTEMPTING.set(input, { call, described });
    const toSend = commandToSend(command, input);
    sent = context.with(call.context, () =>
      sendAdmitted(call, () => original.call(client, toSend, options) as Promise<unknown>),
    );
  } catch (error) {
    call.fail(error);
    throw error;
  }
  let result: unknown;
  try {
    result = await sent;
  } catch (error) {
    call.fail(error);
    throw error;
  }
  try {
    return observeOutput(described.operation, result, call, described.headerUsage);
  } catch (error) {
    // Telemetry never fails the caller's call: the output is handed on, the call settles at its worst case.
    diag.error('@tollgate/instrumentation-bedrock: could not read a Bedrock output', error);
    call.complete(undefined, 'provider');
    return result;
  }
}

function observeOutput(
  operation: GatedOperation,
  result: unknown,
  call: GuardedCall,
  headerUsage: TokenUsage | undefined,
): unknown {
  switch (operation) {
    case 'Converse':
      return observeConverse(result, call);
    case 'ConverseStream':
      return observeConverseStream(result, call);
    case 'InvokeModel':
      return observeInvoke(result, call, headerUsage);
    case 'InvokeModelWithResponseStream':
      return observeInvokeStream(result, call);
  }
}

/**
 * The caller's command as the admitted call sends it: an object whose prototype is the command
 * (its class, schema, serializers and the middleware the caller added all stay as they are) with
 * its own `input` and its own copy of the command's middleware stack, carrying the attempt
 * middleware. The caller's command is never modified, and can be sent again.
 */
function commandToSend(command: CommandLike, input: Record<string, unknown>): CommandLike {
  const middlewareStack = command.middlewareStack.clone();
  middlewareStack.add(attemptMiddleware, {
    step: 'deserialize',
    name: 'tollgateAttemptMiddleware',
    priority: 'low',
    override: true,
  });
  const toSend = Object.create(command) as CommandLike;
  Object.defineProperties(toSend, {
    input: { value: input, writable: true, enumerable: true, configurable: true },
    middlewareStack: { value: middlewareStack, writable: true, enumerable: true, configurable: true },
  });
  return toSend;
}

interface HttpResponseLike {
  statusCode?: number;
  reason?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * Innermost in the deserialize step, so it sees each HTTP attempt's raw response (the retry
 * middleware, further out, repeats everything below it): counts the attempt, feeds its headers
 * (a throttling reply's `retry-after`) back to the limiter, and keeps the token-count headers
 * only this step can see.
 */
const attemptMiddleware: Middleware = (next) => async (args) => {
  const attempting = ATTEMPTING.get(args.input as object);
  if (!attempting) return next(args);
  const { call, described } = attempting;
  // A response cache hit: the stored reply goes to the deserializer, nothing is sent.
  const replayed = call.replayedReply;
  if (replayed) {
    const response = replayedHttpResponse(replayed);
    if (described.operation === 'InvokeModel')
      described.headerUsage = bedrockUsage(response.headers, TOKEN_COUNT_HEADERS);
    return { response, output: undefined };
  }
  let result: MiddlewareResult;
  try {
    result = await next(args);
  } catch (error) {
    call.recordAttempt(undefined);
    throw error;
  }
  if (call.storesReply) await keepReply(call, result);
  try {
    const response = asRecord(result.response) as HttpResponseLike | undefined;
    const headers = asRecord(response?.headers) as Record<string, string> | undefined;
    call.recordAttempt(headers ? fetchHeaders(headers) : undefined, response?.statusCode);
    // Only InvokeModel reads them: its body's own usage is model-specific.
    if (described.operation === 'InvokeModel')
      described.headerUsage = bedrockUsage(headers, TOKEN_COUNT_HEADERS);
  } catch (error) {
    // Telemetry never fails the caller's request.
    diag.error('@tollgate/instrumentation-bedrock: could not read an attempt response', error);
  }
  return result;
};

/** A stored reply as the raw HTTP response the SDK's deserializer reads. */
function replayedHttpResponse(reply: CachedReply): HttpResponseLike & { headers: Record<string, string> } {
  return {
    statusCode: reply.status,
    reason: reply.statusText,
    headers: Object.fromEntries(reply.headers),
    body: Readable.from([Buffer.from(reply.body)]),
  };
}

/**
 * Reads a successful non-stream reply whole, for the response cache, and hands the deserializer
 * the same bytes (it reads the whole body anyway). The call stores it once it completes.
 */
async function keepReply(call: GuardedCall, result: MiddlewareResult): Promise<void> {
  const response = asRecord(result.response) as (HttpResponseLike & { body?: unknown }) | undefined;
  const body = response?.body as AsyncIterable<Uint8Array> | undefined;
  if (response?.statusCode !== 200 || typeof body?.[Symbol.asyncIterator] !== 'function') return;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  response.body = Readable.from([bytes]);
  const headers = Object.entries(response.headers ?? {}).filter(
    ([name, value]) => !name.startsWith(':') && typeof value === 'string',
  );
  call.keepReply({
    status: 200,
    statusText: response.reason ?? '',
    url: '',
    headers,
    body: new Uint8Array(bytes),
    storedAtMs: Date.now(),
  });
}

/** Response headers as `Headers`, without HTTP/2 pseudo-headers (`:status`), which it refuses. */
function fetchHeaders(raw: Record<string, string>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (!name.startsWith(':') && typeof value === 'string') headers.append(name, value);
  }
  return headers;
}

/**
 * The admitted call each sent input belongs to. Keyed by the input object (fresh for every call)
 * rather than held by the middleware, as a client with `cacheMiddleware` reuses one resolved
 * handler for later commands of the same class.
 */
const ATTEMPTING = new WeakMap<object, { call: GuardedCall; described: BedrockCall }>();

/** Endpoints by client: the client's endpoint and region providers are resolved once. */
const ENDPOINTS = new WeakMap<object, Endpoint>();

/** Where the client sends its requests: its custom `endpoint`, else Bedrock Runtime in its region. */
async function clientEndpoint(client: ClientLike): Promise<Endpoint> {
  const known = ENDPOINTS.get(client);
  if (known) return known;
  let endpoint: Endpoint = {};
  try {
    const config = client.config;
    if (typeof config?.endpoint === 'function') {
      const resolved = await config.endpoint();
      const scheme = resolved.protocol?.replace(/:$/, '') ?? 'https';
      const port = resolved.port === undefined ? '' : `:${resolved.port}`;
      endpoint = endpointOf(`${scheme}://${resolved.hostname}${port}`);
    } else if (typeof config?.region === 'function') {
      endpoint = endpointOf(`https://bedrock-runtime.${await config.region()}.amazonaws.com`);
    }
  } catch {
    // An endpoint that cannot be resolved fails the request itself; the span just lacks server.*.
  }
  ENDPOINTS.set(client, endpoint);
  return endpoint;
}

/** Says once per model that its InvokeModel calls go out ungated: never silently dark. */
function warnUngated(command: CommandLike, operation: GatedOperation): void {
  const modelId = asRecord(command.input)?.modelId;
  if (operation === 'Converse' || operation === 'ConverseStream' || typeof modelId !== 'string') return;
  emitTollgateWarning(
    'TOLLGATE_UNGATED_CALL',
    `@tollgate/instrumentation-bedrock: the ${operation} body for ${modelId} is not JSON in a model format it reads (Anthropic, Nova, Llama, Mistral); these calls are NOT gated.`,
    `bedrock-invoke:${modelId}`,
  );
}

/** The error the SDK's HTTP handler rejects an aborted request with. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  const error = new Error(
    reason instanceof Error || reason === undefined ? 'Request aborted' : String(reason),
  );
  error.name = 'AbortError';
  if (reason instanceof Error) error.cause = reason;
  return error;
}
