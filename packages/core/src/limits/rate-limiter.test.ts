import { afterEach, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../errors/rate-limited-error';
import { type LimiterRequest, type NormalizedRateLimit, RateLimiter } from './rate-limiter';

const limiters: RateLimiter[] = [];
afterEach(async () => {
  await Promise.all(limiters.splice(0).map((limiter) => limiter.close()));
});

function limiter(rule: Partial<NormalizedRateLimit>): RateLimiter {
  const created = new RateLimiter([
    {
      provider: 'openai',
      models: ['gpt-4o-mini'],
      perTenant: false,
      maxWaitMillis: 10_000,
      ...rule,
    } as NormalizedRateLimit,
  ]);
  limiters.push(created);
  return created;
}

function call(overrides: Partial<LimiterRequest> = {}): LimiterRequest {
  return {
    provider: 'openai',
    model: 'gpt-4o-mini',
    weightTokens: 100,
    priority: 'interactive',
    ...overrides,
  };
}

describe('RateLimiter', () => {
  it('lets a burst through up to the bucket size, then spreads the rest at the configured rate', async () => {
    const rate = limiter({ rpm: 600, burstRequests: 5 }); // 10 per second after the first 5
    const started = Date.now();
    const admittedAt = await Promise.all(
      Array.from({ length: 15 }, async () => {
        const permit = await rate.acquire(call());
        permit.release();
        return Date.now() - started;
      }),
    );
    admittedAt.sort((a, b) => a - b);
    expect(admittedAt[4]).toBeLessThan(200); // the burst
    // The remaining 10 need 1 s of refill; never faster than the rate allows.
    expect(admittedAt[14]).toBeGreaterThanOrEqual(900);
    expect(admittedAt[14]).toBeLessThan(3_000);
  });

  it('rejects a call that waited past maxWaitMillis, with a retry-after estimate', async () => {
    const rate = limiter({ rpm: 60, burstRequests: 1, maxWaitMillis: 300 });
    (await rate.acquire(call())).release();
    const started = Date.now();
    const error = await rate.acquire(call()).catch((caught: unknown) => caught);
    expect(RateLimitedError.isInstance(error)).toBe(true);
    const limited = error as RateLimitedError;
    expect(limited.reason).toBe('max-wait-exceeded');
    expect(limited.limiterKey).toBe('openai:gpt-4o-mini');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    // One request per second refills: the estimate is about a second, not zero and not forever.
    expect(limited.retryAfterMs).toBeGreaterThanOrEqual(500);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(2_000);
  });

  it('returns the capacity of a timed-out call to the bucket', async () => {
    const rate = limiter({ rpm: 60, burstRequests: 1, maxWaitMillis: 100 });
    const held = await rate.acquire(call());
    await expect(rate.acquire(call())).rejects.toThrow(RateLimitedError);
    held.refund(); // never sent: the first call's request goes back too
    const again = await rate.acquire(call());
    expect(again.waitMillis).toBeLessThan(100);
  });

  it('rejects at once a call heavier than the token bucket can ever hold', async () => {
    const rate = limiter({ tpm: 1_000, burstTokens: 1_000 });
    const started = Date.now();
    const error = (await rate
      .acquire(call({ weightTokens: 5_000 }))
      .catch((caught: unknown) => caught)) as RateLimitedError;
    expect(error.reason).toBe('weight-exceeds-capacity');
    expect(error.retryAfterMs).toBe(Number.POSITIVE_INFINITY);
    expect(error.message).toMatch(/5000 tokens.*at most 1000/);
    expect(Date.now() - started).toBeLessThan(50);
  });

  it('weighs calls in tokens against TPM', async () => {
    const rate = limiter({ tpm: 60_000, burstTokens: 1_000, maxWaitMillis: 200 }); // 1,000 tokens per second
    (await rate.acquire(call({ weightTokens: 900 }))).release();
    await expect(rate.acquire(call({ weightTokens: 900 }))).rejects.toMatchObject({
      reason: 'max-wait-exceeded',
    });
  });

  it('admits interactive calls before queued background calls', async () => {
    const rate = limiter({ maxConcurrent: 1 });
    const first = await rate.acquire(call());
    const order: string[] = [];
    const background = rate.acquire(call({ priority: 'background' })).then((permit) => {
      order.push('background');
      permit.release();
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const interactive = rate.acquire(call({ priority: 'interactive' })).then((permit) => {
      order.push('interactive');
      permit.release();
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    first.release();
    await Promise.all([background, interactive]);
    expect(order).toEqual(['interactive', 'background']);
  });

  it('caps calls in flight at maxConcurrent until permits are released', async () => {
    const rate = limiter({ maxConcurrent: 2, maxWaitMillis: 150 });
    const a = await rate.acquire(call());
    await rate.acquire(call());
    await expect(rate.acquire(call())).rejects.toMatchObject({ reason: 'max-wait-exceeded' });
    a.release();
    await expect(rate.acquire(call())).resolves.toBeDefined();
  });

  it('keeps tenants apart when the rule is per tenant', async () => {
    const rate = limiter({ rpm: 60, burstRequests: 1, maxWaitMillis: 50, perTenant: true });
    (await rate.acquire(call({ tenant: 'a' }))).release();
    await expect(rate.acquire(call({ tenant: 'a' }))).rejects.toMatchObject({
      limiterKey: 'openai:gpt-4o-mini:tenant=a',
    });
    await expect(rate.acquire(call({ tenant: 'b' }))).resolves.toBeDefined();
  });

  it('matches dated snapshots through the canonical model name', async () => {
    const rate = limiter({ rpm: 60, burstRequests: 1, maxWaitMillis: 50 });
    (await rate.acquire(call({ model: 'gpt-4o-mini-2024-07-18', canonicalModel: 'gpt-4o-mini' }))).release();
    await expect(rate.acquire(call())).rejects.toThrow(RateLimitedError);
    // Other models are not limited by this rule.
    await expect(rate.acquire(call({ model: 'gpt-4o' }))).resolves.toMatchObject({ limiterKeys: [] });
  });

  it('backs off after a provider retry-after, rejecting at once when the wait is too long', async () => {
    const rate = limiter({ rpm: 6_000, maxWaitMillis: 1_000 });
    await rate.applyFeedback({ provider: 'openai', model: 'gpt-4o-mini', retryAfterMillis: 5_000 });
    const started = Date.now();
    const error = (await rate.acquire(call()).catch((caught: unknown) => caught)) as RateLimitedError;
    expect(error.reason).toBe('provider-backoff');
    expect(error.retryAfterMs).toBeGreaterThan(4_000);
    expect(Date.now() - started).toBeLessThan(50);
  });

  it('waits out a short provider back-off even for models without a rule', async () => {
    const rate = new RateLimiter([]);
    limiters.push(rate);
    await rate.applyFeedback({ provider: 'anthropic', model: 'claude-haiku-4-5', retryAfterMillis: 150 });
    const started = Date.now();
    await rate.acquire(call({ provider: 'anthropic', model: 'claude-haiku-4-5' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('shrinks the local bucket to what the provider says remains', async () => {
    const rate = limiter({ rpm: 600, burstRequests: 100, maxWaitMillis: 50 });
    (await rate.acquire(call())).release();
    await rate.applyFeedback({ provider: 'openai', model: 'gpt-4o-mini', remainingRequests: 2 });
    (await rate.acquire(call())).release();
    (await rate.acquire(call())).release();
    await expect(rate.acquire(call())).rejects.toMatchObject({ reason: 'max-wait-exceeded' });
  });
});
