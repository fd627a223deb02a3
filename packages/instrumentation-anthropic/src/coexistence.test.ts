import * as anthropicModule from '@anthropic-ai/sdk';
import { VERSION as anthropicVersion } from '@anthropic-ai/sdk/version';
import { AnthropicInstrumentation as OpenInferenceAnthropicInstrumentation } from '@arizeai/openinference-instrumentation-anthropic';
import { BudgetExceededError, createGuard, type Guard } from '@tollgate/core';
import { telemetryHarness } from '@tollgate/core/testing';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AnthropicInstrumentation } from './instrumentation';
import { mockClient } from './test-support';

/*
 * Tollgate next to the other instrumentations people register for @anthropic-ai/sdk, in both
 * orders: the gate must hold whatever else wraps the SDK. The peer is the real package, patching
 * the same module the way its module hook would. (@traceloop/instrumentation-anthropic 0.27 throws
 * while patching SDK 1.x, before it wraps anything: nothing there for the gate to survive.)
 */

const { Anthropic } = anthropicModule;
const TOLLGATE_SCOPE = '@tollgate/instrumentation-anthropic';
const SDK_SCOPE = 'com.anthropic.sdk.typescript';

type Method = Record<string, unknown>;
const hosts: Method[] = [
  Anthropic.Messages.prototype as unknown as Method,
  Anthropic.Beta.Messages.prototype as unknown as Method,
  Anthropic.prototype as unknown as Method,
  Object.getPrototypeOf(Anthropic.prototype) as Method,
];
// What every test starts from, whatever a peer left behind.
const pristine = new Map<Method, Record<string, unknown>>(
  hosts.map((host) => [
    host,
    Object.fromEntries(
      ['create', 'stream', 'post', 'fetchWithTimeout']
        .filter((name) => Object.hasOwn(host, name))
        .map((name) => [name, host[name]]),
    ),
  ]),
);
function restorePristine() {
  for (const [host, methods] of pristine) {
    for (const [name, value] of Object.entries(methods)) {
      Object.defineProperty(host, name, { value, writable: true, configurable: true });
    }
  }
}

type Client = InstanceType<typeof Anthropic>;
interface Peer {
  name: string;
  /** Whether the peer records spans of its own (the plain wrappers do not). */
  traces: boolean;
  attach(client: Client): void;
  detach?(): void;
}

const openInference: Peer = (() => {
  let unpatch: (() => void) | undefined;
  return {
    name: '@arizeai/openinference-instrumentation-anthropic',
    traces: true,
    attach() {
      const peer = new OpenInferenceAnthropicInstrumentation();
      peer.setTracerProvider(harness.tracerProvider);
      peer.setMeterProvider(harness.meterProvider);
      const [definition] = peer.getModuleDefinitions() as Array<{
        patch?: (exports: unknown, version?: string) => unknown;
        unpatch?: (exports: unknown, version?: string) => unknown;
      }>;
      definition!.patch!(anthropicModule, anthropicVersion);
      // It remembers what it patched in module state: unpatch so the next test patches anew.
      unpatch = () => definition!.unpatch!(anthropicModule, anthropicVersion);
    },
    detach() {
      unpatch?.();
      unpatch = undefined;
    },
  };
})();

function wrapWithCounter(host: Method, counter: { calls: number }) {
  const original = host.create as (...args: unknown[]) => unknown;
  host.create = function create(this: unknown, ...args: unknown[]) {
    counter.calls += 1;
    return original.apply(this, args);
  };
}

const userCalls = { calls: 0 };
const peers: Peer[] = [
  openInference,
  {
    name: 'a plain wrapper of create on the prototype',
    traces: false,
    attach() {
      wrapWithCounter(Anthropic.Messages.prototype as unknown as Method, userCalls);
    },
  },
  {
    name: 'a plain wrapper of create on the client instance',
    traces: false,
    attach(client) {
      wrapWithCounter(client.messages as unknown as Method, userCalls);
    },
  },
];

let mock: MockProvider;
let harness: ReturnType<typeof telemetryHarness>;
let guard: Guard;
let tollgate: AnthropicInstrumentation;
let client: Client;
let attached: Peer | undefined;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});
afterEach(async () => {
  attached?.detach?.();
  attached = undefined;
  tollgate?.uninstrument(anthropicModule);
  restorePristine();
  await guard?.close();
  await harness?.shutdown();
});

function start(peer: Peer, order: 'peer first' | 'Tollgate first', usd: number, sdkSpans = false) {
  harness = telemetryHarness();
  guard = createGuard({ budgets: [{ id: 'day', limit: { usd }, window: 'day' }] });
  tollgate = new AnthropicInstrumentation({ guard });
  tollgate.setTracerProvider(harness.tracerProvider);
  tollgate.setMeterProvider(harness.meterProvider);
  mock.reset();
  mock.configure({ outputTokens: 12, chunkDelayMillis: 0, latencyMillis: 0, includeUsageInStream: 'auto' });
  userCalls.calls = 0;
  client = mockClient(mock, sdkSpans ? {} : { openTelemetry: false as const });
  attached = peer;
  if (order === 'peer first') {
    peer.attach(client);
    tollgate.instrument(anthropicModule);
  } else {
    tollgate.instrument(anthropicModule);
    peer.attach(client);
  }
}

const messageParams = {
  model: 'claude-haiku-4-5',
  max_tokens: 50,
  messages: [{ role: 'user' as const, content: 'Say hello to the test suite' }],
};

async function settled() {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

function spansOf(scope: string) {
  return harness.spans.getFinishedSpans().filter((span) => span.instrumentationScope.name === scope);
}

/** Awaits a call's result and reads it to the end when it is a stream. */
async function read(result: unknown): Promise<void> {
  const awaited = await result;
  if (awaited && typeof awaited === 'object' && Symbol.asyncIterator in awaited) {
    for await (const _item of awaited as AsyncIterable<unknown>) {
      // read to the end
    }
  }
}

// First in the file: a warning is emitted once per process.
describe('Tollgate next to another instrumentation of create()', () => {
  it('says so once with a process warning when the other takes its create() wrapper off', async () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    start(openInference, 'Tollgate first', 1);
    await client.messages.create(messageParams);
    await client.messages.create(messageParams);
    const warnings = (emitted.mock.calls as unknown as Array<[string, { code?: string }]>).filter(
      ([, options]) => options?.code === 'TOLLGATE_OTHER_INSTRUMENTATION',
    );
    emitted.mockRestore();
    // One per resource it re-wrapped (messages and beta.messages), not one per call.
    expect(warnings.map(([message]) => message)).toEqual([
      expect.stringContaining(
        "sdk Messages.create and has taken Tollgate's wrapper off it; calls are still gated",
      ),
      expect.stringContaining("sdk Beta.Messages.create and has taken Tollgate's wrapper off it"),
    ]);
    expect(warnings[0]![0]).toContain('ANTHROPIC_OPEN_TELEMETRY=false');
  });
});

describe.each(peers)('Tollgate with $name', (peer) => {
  describe.each(['peer first', 'Tollgate first'] as const)('registered %s', (order) => {
    it('refuses a call over budget with BudgetExceededError and sends nothing', async () => {
      start(peer, order, 0.000001);
      await expect(read(client.messages.create(messageParams))).rejects.toBeInstanceOf(BudgetExceededError);
      await expect(read(client.messages.create({ ...messageParams, stream: true }))).rejects.toBeInstanceOf(
        BudgetExceededError,
      );
      await settled();
      expect(mock.requests()).toHaveLength(0);
      expect(spansOf(TOLLGATE_SCOPE).map((span) => span.attributes['tollgate.gate.decision'])).toEqual([
        'budget_exceeded',
        'budget_exceeded',
      ]);
    });

    it('gates and settles allowed calls, streamed and not', async () => {
      start(peer, order, 1);
      const message = await client.messages.create(messageParams);
      expect(message.content.length).toBeGreaterThan(0);
      await read(client.messages.create({ ...messageParams, stream: true }));
      await settled();
      expect(mock.requests()).toHaveLength(2);
      const spans = spansOf(TOLLGATE_SCOPE);
      expect(spans.map((span) => span.name)).toEqual(['chat claude-haiku-4-5', 'chat claude-haiku-4-5']);
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
      // The peer is really there: its own spans, or its calls.
      if (peer.traces) expect(harness.spans.getFinishedSpans().length).toBeGreaterThanOrEqual(4);
      else expect(userCalls.calls).toBe(2);
    });
  });
});

describe("Tollgate gating at post() under the SDK's own span", () => {
  it("puts its span under the SDK's, and ends the SDK's span of a refused call with the error", async () => {
    start(openInference, 'Tollgate first', 0.000001, true);
    await expect(client.messages.create(messageParams)).rejects.toBeInstanceOf(BudgetExceededError);
    await settled();
    expect(mock.requests()).toHaveLength(0);
    const [refusedSdk] = spansOf(SDK_SCOPE);
    expect(refusedSdk!.status.code).toBe(2); // ERROR
    expect(refusedSdk!.attributes['error.type']).toBe('BudgetExceededError');
    const [refused] = spansOf(TOLLGATE_SCOPE);
    expect(refused!.parentSpanContext?.spanId).toBe(refusedSdk!.spanContext().spanId);
  });

  it('settles an allowed call with both spans in one trace', async () => {
    start(openInference, 'Tollgate first', 1, true);
    await client.messages.create(messageParams);
    await settled();
    const [sdk] = spansOf(SDK_SCOPE);
    const [gated] = spansOf(TOLLGATE_SCOPE);
    expect(gated!.attributes['tollgate.usage.source']).toBe('provider');
    expect(gated!.parentSpanContext?.spanId).toBe(sdk!.spanContext().spanId);
    expect(sdk!.status.code).not.toBe(2);
  });
});
