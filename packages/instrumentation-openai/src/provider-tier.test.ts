import { createGuard, type DecisionEvent, type Guard, RateLimitedError } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAIInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

// The provider's advertised tier, and Tollgate's limits set to the same figures.
const TIER = { limitRequests: 600, limitTokens: 200_000, enforce: false };
const CALLS = 100;
const CONCURRENCY = 16;

let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: OpenAIInstrumentation;
let guard: Guard;
let events: DecisionEvent[];

const chatParams = {
  model: 'gpt-4o-mini',
  max_tokens: 20,
  messages: [{ role: 'user' as const, content: 'hello' }],
};

beforeAll(async () => {
  mock = await startMockProvider({ rateLimit: TIER });
});
afterAll(async () => {
  await mock.close();
});

beforeEach(() => {
  ({ harness, instrumentation } = instrumentSdk());
  mock.reset();
  events = [];
  guard = createGuard({
    rateLimits: [
      { provider: 'openai', model: 'gpt-4o-mini', rpm: TIER.limitRequests, tpm: TIER.limitTokens },
    ],
    onDecision: (event) => void events.push(event),
  });
  instrumentation.setConfig({ guard });
});

afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
});

describe('rate-limit headers on every reply, limits at the advertised tier (openai SDK)', () => {
  it('feeds every reply back without holding back a run well under the tier', async () => {
    const client = mockClient(mock);
    const remaining: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CALLS) {
          next += 1;
          const { response } = await client.chat.completions.create(chatParams).withResponse();
          remaining.push(Number(response.headers.get('x-ratelimit-remaining-requests')));
        }
      }),
    );
    // Every reply said how much of the tier was left, and it went down as calls arrived.
    expect(remaining).toHaveLength(CALLS);
    expect(remaining.every((value) => Number.isInteger(value) && value < TIER.limitRequests)).toBe(true);
    // (The window refills at 10 requests a second while the run lasts.)
    expect(Math.min(...remaining)).toBeLessThanOrEqual(TIER.limitRequests - CALLS / 2);
    // A sixth of the tier: nothing was refused and no call waited for capacity. A bucket the
    // feedback drove down would hold calls for ~100 ms each (10 requests a second); what is
    // allowed here is the odd bottleneck job slowed by a busy machine.
    const allowed = events.filter((event) => event.type === 'allowed');
    expect(allowed).toHaveLength(CALLS);
    const waited = allowed.reduce((sum, event) => sum + ('waitMillis' in event ? event.waitMillis : 0), 0);
    expect(waited).toBeLessThan(1_000);
    expect(events.filter((event) => event.type === 'rate-limited')).toHaveLength(0);
    expect(events.filter((event) => event.type === 'limiter-update-failed')).toHaveLength(0);
  }, 60_000);

  it('still backs off when the provider says the tier is used up', async () => {
    const client = mockClient(mock);
    // Another consumer of the same key has used the tier: the next reply says nothing remains.
    mock.configure({ rateLimit: { ...TIER, limitRequests: 1 } });
    await client.chat.completions.create(chatParams);
    mock.configure({ rateLimit: TIER });
    const outcome = await client.chat.completions.create(chatParams).then(
      () => 'sent',
      (error: unknown) => error,
    );
    // The reply's reset (a minute for one request) is beyond maxWaitMillis: refused, not sent.
    expect(RateLimitedError.isInstance(outcome)).toBe(true);
    expect(mock.requests()).toHaveLength(1);
  });
});
