import { OpenAIInstrumentation as OpenInferenceOpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { OpenAIInstrumentation as ContribOpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { BudgetExceededError, createGuard, type Guard } from '@tollgate/core';
import { telemetryHarness } from '@tollgate/core/testing';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { OpenAIInstrumentation as TraceloopOpenAIInstrumentation } from '@traceloop/instrumentation-openai';
import * as openaiModule from 'openai';
import { VERSION as openaiVersion } from 'openai/version';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { OpenAIInstrumentation } from './instrumentation';
import { mockClient } from './test-support';

/*
 * Tollgate next to the other instrumentations people register for openai, in both orders: the
 * gate must hold whatever else wraps the SDK. Each peer is the real package, patching the same
 * module the way its module hook would.
 */

const { OpenAI } = openaiModule;

type Method = Record<string, unknown>;
const prototypes = {
  chat: OpenAI.Chat.Completions.prototype as unknown as Method,
  responses: OpenAI.Responses.prototype as unknown as Method,
  embeddings: OpenAI.Embeddings.prototype as unknown as Method,
  completions: OpenAI.Completions.prototype as unknown as Method,
  client: OpenAI.prototype as unknown as Method,
};
// What every test starts from, whatever a peer left behind.
const pristine = new Map<Method, Record<string, unknown>>(
  Object.values(prototypes).map((proto) => [
    proto,
    { create: proto.create, post: proto.post, fetchWithTimeout: proto.fetchWithTimeout },
  ]),
);
function restorePristine() {
  for (const [proto, methods] of pristine) {
    for (const [name, value] of Object.entries(methods)) {
      if (Object.hasOwn(proto, name))
        Object.defineProperty(proto, name, { value, writable: true, configurable: true });
    }
  }
}

type Client = InstanceType<typeof OpenAI>;
interface Peer {
  name: string;
  /** Whether the peer records spans of its own (the plain wrappers do not). */
  traces: boolean;
  attach(client: Client): void;
  detach?(): void;
}

/** Patches `openaiModule` as the peer's own module hook would, with the version the hook passes. */
function hooked(name: string, make: () => { getModuleDefinitions(): unknown[] }): Peer {
  let unpatch: (() => void) | undefined;
  return {
    name,
    traces: true,
    attach() {
      const peer = make() as ReturnType<typeof make> & {
        setTracerProvider(provider: unknown): void;
        setMeterProvider(provider: unknown): void;
      };
      // As registerInstrumentations() does: the contrib package creates its metric instruments here.
      peer.setTracerProvider(harness.tracerProvider);
      peer.setMeterProvider(harness.meterProvider);
      const [definition] = peer.getModuleDefinitions() as Array<{
        patch?: (exports: unknown, version?: string) => unknown;
        unpatch?: (exports: unknown, version?: string) => unknown;
      }>;
      definition!.patch!(openaiModule, openaiVersion);
      // Some peers remember what they patched in module state: unpatch so the next test patches anew.
      unpatch = () => definition!.unpatch!(openaiModule, openaiVersion);
    },
    detach() {
      unpatch?.();
      unpatch = undefined;
    },
  };
}

function wrapWithCounter(host: Method, counter: { calls: number }) {
  const original = host.create as (...args: unknown[]) => unknown;
  host.create = function create(this: unknown, ...args: unknown[]) {
    counter.calls += 1;
    return original.apply(this, args);
  };
}

const userCalls = { calls: 0 };
const peers: Peer[] = [
  hooked('@opentelemetry/instrumentation-openai', () => new ContribOpenAIInstrumentation()),
  hooked('@traceloop/instrumentation-openai', () => new TraceloopOpenAIInstrumentation()),
  hooked('@arizeai/openinference-instrumentation-openai', () => new OpenInferenceOpenAIInstrumentation()),
  {
    name: 'a plain wrapper of create on the prototype',
    traces: false,
    attach() {
      wrapWithCounter(prototypes.chat, userCalls);
      wrapWithCounter(prototypes.responses, userCalls);
    },
  },
  {
    name: 'a plain wrapper of create on the client instance',
    traces: false,
    attach(client) {
      wrapWithCounter(client.chat.completions as unknown as Method, userCalls);
      wrapWithCounter(client.responses as unknown as Method, userCalls);
    },
  },
];

let mock: MockProvider;
let harness: ReturnType<typeof telemetryHarness>;
let guard: Guard;
let tollgate: OpenAIInstrumentation;
let client: Client;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});

let attached: Peer | undefined;
afterEach(async () => {
  attached?.detach?.();
  attached = undefined;
  tollgate?.uninstrument(openaiModule);
  restorePristine();
  await guard?.close();
  await harness?.shutdown();
});

function start(peer: Peer, order: 'peer first' | 'Tollgate first', usd: number) {
  harness = telemetryHarness();
  guard = createGuard({ budgets: [{ id: 'day', limit: { usd }, window: 'day' }] });
  tollgate = new OpenAIInstrumentation({ guard });
  tollgate.setTracerProvider(harness.tracerProvider);
  tollgate.setMeterProvider(harness.meterProvider);
  mock.reset();
  mock.configure({ outputTokens: 12, chunkDelayMillis: 0, latencyMillis: 0 });
  userCalls.calls = 0;
  client = mockClient(mock);
  attached = peer;
  if (order === 'peer first') {
    peer.attach(client);
    tollgate.instrument(openaiModule);
  } else {
    tollgate.instrument(openaiModule);
    peer.attach(client);
  }
}

const chatParams = {
  model: 'gpt-4o-mini',
  max_tokens: 50,
  messages: [{ role: 'user' as const, content: 'Say hello to the test suite' }],
};
const responsesParams = { model: 'gpt-4o-mini', input: 'Say hello', max_output_tokens: 50 };

async function settled() {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * Awaits a call's result and reads it to the end when it is a stream. The traceloop package
 * returns a bare async generator for chat streams, not the SDK's promise: there a refusal
 * surfaces on the first read.
 */
async function read(result: unknown): Promise<void> {
  const awaited = await result;
  if (awaited && typeof awaited === 'object' && Symbol.asyncIterator in awaited) {
    for await (const _item of awaited as AsyncIterable<unknown>) {
      // read to the end
    }
  }
}

function tollgateSpans() {
  return harness.spans.getFinishedSpans().filter((span) => span.attributes['tollgate.gate.decision']);
}

// First in the file: a warning is emitted once per process.
describe('Tollgate next to another instrumentation of create()', () => {
  it('says so once with a process warning, naming how to turn the other off', async () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    start(peers[0]!, 'Tollgate first', 1);
    await client.chat.completions.create(chatParams);
    await client.chat.completions.create(chatParams);
    const warnings = (emitted.mock.calls as unknown as Array<[string, { code?: string }]>).filter(
      ([, options]) => options?.code === 'TOLLGATE_OTHER_INSTRUMENTATION',
    );
    emitted.mockRestore();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]![0]).toContain('Chat.Completions.create');
    expect(warnings[0]![0]).toContain('OTEL_NODE_DISABLED_INSTRUMENTATIONS=openai');
  });
});

describe.each(peers)('Tollgate with $name', (peer) => {
  describe.each(['peer first', 'Tollgate first'] as const)('registered %s', (order) => {
    it('refuses a call over budget with BudgetExceededError and sends nothing', async () => {
      start(peer, order, 0.000001);
      await expect(read(client.chat.completions.create(chatParams))).rejects.toBeInstanceOf(
        BudgetExceededError,
      );
      await expect(
        read(client.chat.completions.create({ ...chatParams, stream: true })),
      ).rejects.toBeInstanceOf(BudgetExceededError);
      await expect(read(client.responses.create(responsesParams))).rejects.toBeInstanceOf(
        BudgetExceededError,
      );
      await expect(
        read(client.responses.create({ ...responsesParams, stream: true })),
      ).rejects.toBeInstanceOf(BudgetExceededError);
      await settled();
      expect(mock.requests()).toHaveLength(0);
      expect(tollgateSpans().map((span) => span.attributes['tollgate.gate.decision'])).toEqual(
        Array(4).fill('budget_exceeded'),
      );
    });

    it('gates and settles allowed calls, streamed and not, for chat and responses', async () => {
      start(peer, order, 1);
      const completion = await client.chat.completions.create(chatParams);
      expect(completion.choices[0]!.message.content).toBeTruthy();
      const chatStream = await client.chat.completions.create({ ...chatParams, stream: true });
      let chunks = 0;
      for await (const _chunk of chatStream) chunks += 1;
      expect(chunks).toBeGreaterThan(0);
      // The SDK's promise keeps working through both wrappers (no "Body is unusable" from a second parse).
      const { data, response: raw } = await client.responses.create(responsesParams).withResponse();
      expect(data.output_text).toBeTruthy();
      expect(raw.status).toBe(200);
      const responseStream = await client.responses.create({ ...responsesParams, stream: true });
      for await (const _event of responseStream) {
        // consume
      }
      await settled();
      expect(mock.requests()).toHaveLength(4);
      const spans = tollgateSpans();
      expect(spans.map((span) => span.name)).toEqual(Array(4).fill('chat gpt-4o-mini'));
      for (const span of spans) {
        expect(span.attributes).toMatchObject({
          'tollgate.gate.decision': 'allowed',
          'tollgate.usage.source': 'provider',
          'gen_ai.usage.output_tokens': 12,
        });
        expect(span.attributes['tollgate.cost.reconciled_usd']).toBeGreaterThan(0);
      }
      const [status] = await guard.budgetStatus('day');
      expect(status!.reserved).toBe(0);
      const reconciled = spans.reduce(
        (sum, span) => sum + (span.attributes['tollgate.cost.reconciled_usd'] as number),
        0,
      );
      expect(status!.spent).toBeCloseTo(reconciled, 12);
      // The peer is really there: its own spans (contrib, traceloop, openinference) or its calls.
      if (peer.traces)
        expect(harness.spans.getFinishedSpans().length).toBeGreaterThanOrEqual(spans.length + 4);
      else expect(userCalls.calls).toBe(4);
    });
  });
});
