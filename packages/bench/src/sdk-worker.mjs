// One variant of the SDK benchmarks in its own process, so each patches `openai` its own way
// and none sees another's instrumentation: the parent sends workloads and reads the figures.
//
// Variants: raw (no instrumentation), otel-only (OpenTelemetry registered, nothing instrumented), peer (@opentelemetry/instrumentation-openai, telemetry
// only), tollgate-open (Tollgate with a guard that has no budgets or limits), gate-memory and
// gate-redis (budgets + RPM/TPM configured, not binding).
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { metrics, trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { createGuard } from '@tollgate/core';
import { CallGate } from '@tollgate/core/instrumentation';
import { runConcurrently } from './pool.mjs';
import { setUpTelemetry } from './telemetry-setup.mjs';
import { gatedConfig, tierConfig } from './workloads.mjs';

const variant = process.env.BENCH_VARIANT;
const baseURL = process.env.BENCH_OPENAI_BASE_URL;
const redisUrl = process.env.BENCH_REDIS_URL;
const require = createRequire(import.meta.url);

let telemetry;
let guard;
/** The variant's instrumentation, if it has one (the paired measurements need one). */
let instrumentation;
// A copy of the SDK loaded before any instrumentation hook exists, so it stays unpatched: the
// paired measurements alternate between it and the instrumented copy in this one process.
// (Toggling the instrumentation with disable()/enable() instead re-patches the SDK between
// calls, and the deoptimised code that follows is charged to the instrumented half.)
const { OpenAI: UnpatchedOpenAI } = require('openai');
for (const key of Object.keys(require.cache)) {
  if (key.includes(`${path.sep}node_modules${path.sep}openai${path.sep}`)) delete require.cache[key];
}
if (variant !== 'raw') telemetry = setUpTelemetry();
if (variant === 'otel-only') {
  // OpenTelemetry registered (context manager, providers) and nothing instrumented: what any
  // traced application pays before an instrumentation does anything.
} else if (variant === 'peer') {
  const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
  instrumentation = new OpenAIInstrumentation();
  registerInstrumentations({ instrumentations: [instrumentation] });
} else if (variant !== 'raw') {
  let store = {};
  if (variant === 'gate-redis') {
    const { createRedisGuardStore } = await import('@tollgate/redis');
    // The scale section gives every process one prefix: one shared budget and rate limit.
    const keyPrefix = process.env.BENCH_REDIS_KEY_PREFIX || `bench-${process.pid}`;
    store = createRedisGuardStore({ url: redisUrl, keyPrefix });
  }
  // gate-tier and gate-tier-quiet: limits at the mock's advertised tier, with and without its headers.
  const config = variant.startsWith('gate-tier') ? tierConfig() : gatedConfig();
  guard = createGuard(variant === 'tollgate-open' ? {} : { ...config, ...store });
  // gate-tier-deaf: the headers arrive and are read, but the limiter is never told.
  if (variant === 'gate-tier-deaf') guard.applyProviderFeedback = () => {};
  const { OpenAIInstrumentation } = await import('@tollgate/instrumentation-openai');
  instrumentation = new OpenAIInstrumentation({ guard });
  registerInstrumentations({ instrumentations: [instrumentation] });
}
// Required after the instrumentations registered their hooks, as an application would.
const { OpenAI } = require('openai');
if (instrumentation && OpenAI === UnpatchedOpenAI) throw new Error('the SDK was not loaded twice');
const client = new OpenAI({ apiKey: 'bench', baseURL, maxRetries: 0 });
const unpatchedClient = new UnpatchedOpenAI({ apiKey: 'bench', baseURL, maxRetries: 0 });

const chatBody = {
  model: 'gpt-4o-mini',
  max_tokens: 64,
  messages: [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Summarise the quarterly report in three bullet points.' },
  ],
};

/** The streamed request every stream workload makes: `maxTokens` one-word chunks from the mock. */
function storyRequest(maxTokens) {
  return {
    model: 'gpt-4o-mini',
    max_tokens: maxTokens,
    stream: true,
    messages: [{ role: 'user', content: 'Tell me a long story.' }],
  };
}

async function oneCall(using = client) {
  const started = performance.now();
  await using.chat.completions.create(chatBody);
  return performance.now() - started;
}

/** `count` calls, `concurrency` at a time; per-call latency in ms, the wall time and this process's CPU time. */
async function calls({ count, concurrency }) {
  const latencies = new Float64Array(count);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await runConcurrently(count, concurrency, async (index) => {
    latencies[index] = await oneCall();
  });
  const wallMs = performance.now() - started;
  return { latencies: [...latencies], wallMs, cpuMs: cpuMillis(cpuBefore) };
}

function cpuMillis(before) {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** A chat reply shaped like the mock's, for calls answered from memory. */
const CANNED_REPLY = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(64) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 24, completion_tokens: 64, total_tokens: 88 },
});

/** A client of the instrumented SDK whose `fetch` answers every call from memory. */
const cannedClient = new OpenAI({
  apiKey: 'bench',
  baseURL,
  maxRetries: 0,
  fetch: async () =>
    new Response(CANNED_REPLY, { status: 200, headers: { 'content-type': 'application/json' } }),
});

/**
 * `count` chat calls, `concurrency` at a time, answered from memory through the SDK's `fetch`
 * option: this process's CPU time without HTTP, sockets or the mock, where the
 * instrumentation's share of a call is largest and least noisy.
 */
async function cannedCalls({ count, concurrency }) {
  const cpuBefore = process.cpuUsage();
  await runConcurrently(count, concurrency, () => cannedClient.chat.completions.create(chatBody));
  return { cpuMs: cpuMillis(cpuBefore) };
}

/** Sequential streams of `chunks` chunks: time to first chunk and total, in ms. */
async function streams({ count, chunks }) {
  const firstChunk = [];
  const total = [];
  let seen = 0;
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    const stream = await client.chat.completions.create(storyRequest(chunks));
    let first = true;
    for await (const _chunk of stream) {
      if (first) {
        firstChunk.push(performance.now() - started);
        first = false;
      }
      seen++;
    }
    total.push(performance.now() - started);
  }
  return { firstChunk, total, chunksSeen: seen / count };
}

/**
 * Streams replayed from memory through the SDK's own parser (a `fetch` that returns a
 * recorded SSE body): the client-side cost per chunk, without the network. Each event is
 * its own body chunk, as a provider writes them: handed the whole body as one chunk, the
 * SDK's line splitter copies the rest of the buffer for every event, which would make the
 * baseline quadratic in the stream's length and bury the instrumentation's share in noise.
 */
function replayClient(body, SDK = OpenAI) {
  const events = body.split(/(?<=\n\n)/).map((event) => Buffer.from(event, 'utf8'));
  const eventStream = () => {
    let next = 0;
    return new ReadableStream({
      type: 'bytes',
      pull(controller) {
        if (next < events.length) controller.enqueue(new Uint8Array(events[next++]));
        else controller.close();
      },
    });
  };
  return new SDK({
    apiKey: 'bench',
    baseURL,
    maxRetries: 0,
    fetch: async () =>
      new Response(eventStream(), { status: 200, headers: { 'content-type': 'text/event-stream' } }),
  });
}

async function replayOne(replaying) {
  const started = performance.now();
  const stream = await replaying.chat.completions.create(storyRequest(4000));
  for await (const _chunk of stream) {
    // Consume only.
  }
  return performance.now() - started;
}

/** One loopback stream, read to its end: the time to its first chunk, in ms. */
async function firstChunkOne(chunks, using) {
  const started = performance.now();
  const stream = await using.chat.completions.create(storyRequest(chunks));
  let firstChunkMs;
  for await (const _chunk of stream) firstChunkMs ??= performance.now() - started;
  return { firstChunkMs, beforeSendMs: requestSentAt - started };
}

/** When the last request was handed to `fetch` (one stream at a time in the paired workload). */
let requestSentAt = 0;

/** The unpatched and the instrumented client, each noting when its request leaves for `fetch`. */
const sendTimedClients = [UnpatchedOpenAI, OpenAI].map(
  (SDK) =>
    new SDK({
      apiKey: 'bench',
      baseURL,
      maxRetries: 0,
      fetch: (url, init) => {
        requestSentAt = performance.now();
        return fetch(url, init);
      },
    }),
);

async function replay({ count, body }) {
  const replaying = replayClient(body);
  const total = [];
  for (let index = 0; index < count; index++) total.push(await replayOne(replaying));
  return { total };
}

/**
 * The same work without and with the instrumentation, alternately, in this one process: the
 * unpatched copy of the SDK, then the instrumented one (order swapped every pair). Both halves
 * run under the same machine load and the same OpenTelemetry registration, so the paired
 * difference isolates what the instrumentation adds.
 */
async function paired({ count, workload, body, chunks }) {
  if (!instrumentation) return undefined;
  const replaying =
    workload === 'replay' ? [replayClient(body, UnpatchedOpenAI), replayClient(body)] : undefined;
  const clients = [unpatchedClient, client];
  const off = [];
  const on = [];
  // First chunk only: the part of each call before its request was handed to `fetch`.
  const beforeSend = { off: [], on: [] };
  const once = async (instrumented) => {
    const half = instrumented ? 1 : 0;
    if (replaying) return replayOne(replaying[half]);
    if (workload !== 'first-chunk') return oneCall(clients[half]);
    const { firstChunkMs, beforeSendMs } = await firstChunkOne(chunks, sendTimedClients[half]);
    beforeSend[instrumented ? 'on' : 'off'].push(beforeSendMs);
    return firstChunkMs;
  };
  for (let index = 0; index < count; index++) {
    const order = index % 2 === 0 ? [false, true] : [true, false];
    for (const instrumented of order) (instrumented ? on : off).push(await once(instrumented));
  }
  return workload === 'first-chunk' ? { off, on, beforeSend } : { off, on };
}

/** The gate alone: `guard.run()` around a no-op, `concurrency` at a time. */
async function gateNoop({ count, concurrency }) {
  if (!guard) return undefined;
  const descriptor = { provider: 'openai', operation: 'chat', model: 'gpt-4o-mini', body: chatBody };
  const noop = async () => ({ usage: { inputTokens: 20, outputTokens: 40 } });
  const options = { usage: (result) => result.usage };
  const started = performance.now();
  await runConcurrently(count, concurrency, () => guard.run(descriptor, noop, options));
  return { wallMs: performance.now() - started };
}

/**
 * The gate alone for a fixed time: `concurrency` callers admit no-op calls until `durationMs`
 * has passed. Returns the count, each admission's latency in ms, and this process's CPU time.
 */
async function gateTimed({ durationMs, concurrency }) {
  if (!guard) return undefined;
  const descriptor = { provider: 'openai', operation: 'chat', model: 'gpt-4o-mini', body: chatBody };
  const noop = async () => ({ usage: { inputTokens: 20, outputTokens: 40 } });
  const options = { usage: (result) => result.usage };
  const latencies = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const callStarted = performance.now();
        await guard.run(descriptor, noop, options);
        latencies.push(performance.now() - callStarted);
      }
    }),
  );
  const wallMs = performance.now() - started;
  return { count: latencies.length, latencies, wallMs, cpuMs: cpuMillis(cpuBefore) };
}

function heapUsed() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * Heap after blocks of gated calls and streams; flat after warm-up means nothing accumulates.
 * Each block: `gatedPerBlock` calls through `CallGate` (span, metrics, guard: everything the
 * instrumentation does but the HTTP request), `sdkCallsPerBlock` SDK calls and
 * `streamsPerBlock` SDK streams through the instrumentation.
 */
async function memory({ blocks, gatedPerBlock, sdkCallsPerBlock, streamsPerBlock, concurrency }) {
  const gate = new CallGate(guard, trace.getTracer('bench'), metrics.getMeter('bench'));
  const request = {
    descriptor: { provider: 'openai', operation: 'chat', model: 'gpt-4o-mini', body: chatBody },
    streaming: false,
  };
  const usage = { inputTokens: 20, outputTokens: 40 };
  const samples = [{ calls: 0, streams: 0, heapBytes: heapUsed() }];
  let totalCalls = 0;
  let totalStreams = 0;
  for (let block = 0; block < blocks; block++) {
    await runConcurrently(gatedPerBlock, concurrency, async () => {
      const call = await gate.begin(request);
      call.complete(usage, 'provider');
    });
    await calls({ count: sdkCallsPerBlock, concurrency });
    await Promise.all(Array.from({ length: 10 }, () => streams({ count: streamsPerBlock / 10, chunks: 20 })));
    totalCalls += gatedPerBlock + sdkCallsPerBlock;
    totalStreams += streamsPerBlock;
    // Let batched spans export and settlements finish before reading the heap.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    samples.push({ calls: totalCalls, streams: totalStreams, heapBytes: heapUsed() });
  }
  return { samples };
}

/** Calls the limiter held back or refused, by decision type: provider feedback shows up here first. */
const limiterDecisions = {};
guard?.onDecision(
  (event) => {
    limiterDecisions[event.type] = (limiterDecisions[event.type] ?? 0) + 1;
  },
  ['throttled', 'rate-limited'],
);
const decisions = () => ({ ...limiterDecisions });

/**
 * Sequential PINGs from this process to the bench's redis-server over a fresh ioredis client
 * (the round trip, the floor under anything that waits on Redis once per call), and the
 * server's own time per script so far (`INFO commandstats`: EVALSHA's usec_per_call).
 */
async function redisRoundTrip({ count }) {
  if (!redisUrl) return undefined;
  const { Redis } = await import('ioredis');
  const client = new Redis(redisUrl);
  try {
    const rounds = [];
    for (let index = 0; index < count; index++) {
      const started = performance.now();
      await client.ping();
      rounds.push(performance.now() - started);
    }
    const stats = await client.info('commandstats');
    const scriptMicros = Number(stats.match(/^cmdstat_evalsha:.*usec_per_call=([\d.]+)/m)?.[1]);
    return { rounds, scriptMicros };
  } finally {
    client.disconnect();
  }
}

const handlers = {
  calls,
  cannedCalls,
  redisRoundTrip,
  streams,
  replay,
  paired,
  gateNoop,
  gateTimed,
  memory,
  decisions,
};

process.on('message', async (message) => {
  if (message.type === 'close') {
    await guard?.close();
    await telemetry?.shutdown();
    process.send({ type: 'closed' });
    setTimeout(() => process.exit(0), 50).unref();
    return;
  }
  try {
    const result = await handlers[message.type](message);
    process.send({ type: 'result', id: message.id, result });
  } catch (error) {
    process.send({ type: 'result', id: message.id, error: String(error?.stack ?? error) });
  }
});
process.send({ type: 'ready' });
