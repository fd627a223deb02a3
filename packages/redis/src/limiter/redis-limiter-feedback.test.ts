import { createGuard, type DecisionEvent, type Guard, type LlmCallDescriptor } from '@tollgate/core';
import { telemetryHarness } from '@tollgate/core/testing';
import { OpenAIInstrumentation } from '@tollgate/instrumentation-openai';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import type { Redis } from 'ioredis';
import * as openaiModule from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, type TestRedisServer } from '../../test/redis-server';
import { createRedisLimiterDatastore } from './redis-limiter-datastore';
import { restartIfStopped, startAdminRedis, stopAdminRedis } from './test-support';

const skip = skipWithoutRedis();

const chatParams = {
  model: 'gpt-4o-mini',
  max_tokens: 20,
  messages: [{ role: 'user' as const, content: 'hello' }],
};

function chat(model: string): LlmCallDescriptor {
  return { provider: 'openai', operation: 'chat', model, body: { ...chatParams, model } };
}

describe.skipIf(skip)('shared buckets: provider feedback and whole-number state on Redis 7', () => {
  let server: TestRedisServer;
  let admin: Redis;
  let mock: MockProvider;
  let guard: Guard | undefined;
  let events: DecisionEvent[];
  let prefixes = 0;

  beforeAll(async () => {
    ({ server, admin } = await startAdminRedis());
    mock = await startMockProvider();
  }, 20_000);

  afterEach(async () => {
    await guard?.close();
    guard = undefined;
    await restartIfStopped({ server, admin });
  });

  afterAll(async () => {
    await mock?.close();
    await stopAdminRedis({ server, admin });
  });

  /** A guard on a fresh key prefix; returns it with the Redis key of its request bucket's settings. */
  function sharedGuard(rateLimit: Record<string, unknown>): { gate: Guard; settingsKey: string } {
    const keyPrefix = `feedback-${++prefixes}`;
    events = [];
    guard = createGuard({
      rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', ...rateLimit }],
      limiter: {
        datastore: createRedisLimiterDatastore({ url: server.url, keyPrefix, commandTimeoutMillis: 500 }),
      },
      onDecision: (event) => void events.push(event),
    });
    return { gate: guard, settingsKey: `b_${keyPrefix}:limiter:{openai:gpt-4o-mini}:requests_settings` };
  }

  async function reservoir(settingsKey: string): Promise<number> {
    return Number(await admin.hget(settingsKey, 'reservoir'));
  }

  it('caps the shared bucket once when 16 concurrent openai SDK replies report x-ratelimit-remaining-requests', async () => {
    // The provider allows 1,000 a minute, the shared limit 100,000: every reply says ~990 remain.
    mock.reset();
    mock.configure({ rateLimit: { limitRequests: 1_000, limitTokens: 30_000_000, enforce: false } });
    const { gate, settingsKey } = sharedGuard({ rpm: 100_000, maxWaitMillis: 3_000 });
    const harness = telemetryHarness();
    const instrumentation = new OpenAIInstrumentation({ guard: gate });
    instrumentation.setTracerProvider(harness.tracerProvider);
    instrumentation.setMeterProvider(harness.meterProvider);
    instrumentation.instrument(openaiModule);
    try {
      // The 16 replies reach the SDK in the same turn of the event loop, as from a busy provider:
      // each response is held until all have arrived, then all are handed over at once.
      const held: (() => void)[] = [];
      const together: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (held.length < 16) {
          await new Promise<void>((release) => {
            held.push(release);
            if (held.length === 16) for (const each of held) each();
          });
        }
        return response;
      };
      const client = new openaiModule.OpenAI({
        apiKey: 'test-key',
        baseURL: mock.openaiBaseUrl,
        maxRetries: 0,
        fetch: together,
      });
      await Promise.all(Array.from({ length: 16 }, () => client.chat.completions.create(chatParams)));
      const repliedMs = Date.now();
      await mock.whenIdle();
      const left = await reservoir(settingsKey);
      // Capped to about what the provider said (plus what the bucket refilled since, 100,000 a
      // minute in steps of 416), never the 16 excesses summed (−1.3 M seen before).
      expect(left).toBeGreaterThanOrEqual(0);
      expect(left).toBeLessThanOrEqual(1_000 + 416 + ((Date.now() - repliedMs) * 100_000) / 60_000);
      expect(Number.isInteger(left)).toBe(true);
      await expect(client.chat.completions.create(chatParams)).resolves.toBeDefined();
      expect(events.filter((event) => event.type === 'rate-limited')).toEqual([]);
      expect(events.filter((event) => event.type === 'limiter-update-failed')).toEqual([]);
    } finally {
      instrumentation.uninstrument(openaiModule);
      await harness.shutdown();
      mock.configure({ rateLimit: { limitRequests: 10_000, limitTokens: 30_000_000, enforce: false } });
    }
  });

  it('caps the shared bucket once for 16 feedback reports applied at the same moment', async () => {
    const { gate, settingsKey } = sharedGuard({ rpm: 100_000 });
    await (await gate.admit(chat('gpt-4o-mini'))).settle(undefined);
    for (let index = 0; index < 16; index++) {
      gate.applyProviderFeedback({
        provider: 'openai',
        model: 'gpt-4o-mini',
        remainingRequests: 1_000 - index,
      });
    }
    const appliedMs = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const left = await reservoir(settingsKey);
    expect(left).toBeGreaterThanOrEqual(0);
    // What the provider said, plus what the bucket refilled since (100,000 a minute in steps of 416).
    expect(left).toBeLessThanOrEqual(1_000 + 416 + ((Date.now() - appliedMs) * 100_000) / 60_000);
  });

  it('keeps the reservoir a whole number when the refill per tick is fractional, so give-backs keep working', async () => {
    // 600 rpm is 2.5 requests per 250 ms tick.
    const { gate, settingsKey } = sharedGuard({ rpm: 600 });
    for (let round = 0; round < 3; round++) {
      const admissions = await Promise.all(Array.from({ length: 5 }, () => gate.admit(chat('gpt-4o-mini'))));
      await Promise.all(admissions.map((admission) => admission.settle(undefined)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(Number.isInteger(await reservoir(settingsKey))).toBe(true);
    }
    // bottleneck's HINCRBY (give-backs of unused permits) works on a whole reservoir.
    await admin.hincrby(settingsKey, 'reservoir', 0);
    expect(events.filter((event) => event.type === 'limiter-update-failed')).toEqual([]);
  });

  it('reports a shrink the store could not apply as an event, never silently', async () => {
    const { gate } = sharedGuard({ rpm: 600 });
    await (await gate.admit(chat('gpt-4o-mini'))).settle(undefined);
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    gate.applyProviderFeedback({ provider: 'openai', model: 'gpt-4o-mini', remainingRequests: 3 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'limiter-update-failed',
        limiterKey: 'openai:gpt-4o-mini',
        bucket: 'requests',
        operation: 'shrink',
      }),
    );
  }, 15_000);
});
