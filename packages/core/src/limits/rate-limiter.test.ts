import { afterEach, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../errors/rate-limited-error';
import { LEASE_IDLE_MILLIS } from './leased-permits';
import { DEBT_COLLECT_MILLIS } from './permit-lease';
import type { NormalizedRateLimit } from './rate-limit-rules';
import { type LimiterRequest, RateLimiter } from './rate-limiter';

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RateLimiter leases', () => {
  it('admits most calls from leased permits, one bottleneck job per batch, when limits do not bind', async () => {
    const rate = limiter({ rpm: 6_000_000, tpm: 1e10, maxConcurrent: 10_000 });
    const calls = 3_000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < calls) {
          next++;
          const permit = await rate.acquire(call());
          permit.release();
        }
      }),
    );
    const state = await rate.inspect('openai:gpt-4o-mini');
    // Per-call scheduling would have run 3,000 jobs on each bucket.
    expect(state?.requests?.leasesTaken).toBeLessThan(calls / 10);
    expect(state?.tokens?.leasesTaken).toBeLessThan(calls / 10);
    expect(state?.running).toBe(0);
  });

  it('hands unused leased permits back to the bucket after a short idle', async () => {
    const capacity = 60_000;
    const rate = limiter({ rpm: capacity, burstRequests: capacity }); // 1,000 per second: never binding here
    let admitted = 0;
    // Steady demand for ~300 ms, so the lease prefetches.
    const until = Date.now() + 300;
    while (Date.now() < until) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          (await rate.acquire(call())).release();
          admitted++;
        }),
      );
      await sleep(5);
    }
    const busy = await rate.inspect('openai:gpt-4o-mini');
    expect(busy?.requests?.leasesTaken).toBeLessThan(admitted);
    await sleep(LEASE_IDLE_MILLIS * 3);
    const idle = await rate.inspect('openai:gpt-4o-mini');
    expect(idle?.requests?.leasedUnused).toBe(0);
    expect(idle?.requests?.permitsReturned).toBeGreaterThan(0);
    // Everything not used is back: only the admitted calls are missing (and refills never overfill).
    expect(idle?.requests?.reservoir).toBeGreaterThanOrEqual(capacity - admitted);
    expect(idle?.requests?.reservoir).toBeLessThanOrEqual(capacity);
  });

  it('admits at once, without a bottleneck round trip, while the process-local bucket is known to hold enough', async () => {
    const rate = limiter({ rpm: 60, burstRequests: 10, maxWaitMillis: 50 }); // refills 1 a second: none here
    // Before any timer or I/O callback runs, every call the full bucket holds is admitted.
    let turnPassed = false;
    setImmediate(() => {
      turnPassed = true;
    });
    const admitted = await Promise.all(
      Array.from({ length: 10 }, async () => {
        (await rate.acquire(call())).release();
        return turnPassed;
      }),
    );
    expect(admitted).toEqual(Array(10).fill(false));
    // Nothing beyond the bucket: the next call waits for a refill it cannot get in time.
    await expect(rate.acquire(call())).rejects.toMatchObject({ reason: 'max-wait-exceeded' });
    // Every admitted call's permit was collected from bottleneck.
    const state = await rate.inspect('openai:gpt-4o-mini');
    expect(state?.requests?.owed).toBe(0);
    expect(state?.requests?.leasedUnused).toBe(0);
    expect(state?.requests?.reservoir).toBeLessThan(1);
  });

  it('collects permits owed on credit in one batch, off the admitting calls', async () => {
    const rate = limiter({ rpm: 600_000 });
    for (let index = 0; index < 5; index++) (await rate.acquire(call())).release();
    const owing = await rate.inspect('openai:gpt-4o-mini');
    expect(owing?.requests?.owed).toBe(5);
    expect(owing?.requests?.leasesTaken).toBe(0);
    await sleep(DEBT_COLLECT_MILLIS * 6);
    const collected = await rate.inspect('openai:gpt-4o-mini');
    expect(collected?.requests?.owed).toBe(0);
    expect(collected?.requests?.leasesTaken).toBe(1);
    expect(collected?.requests?.reservoir).toBeLessThanOrEqual(600_000 - 5);
  });

  it('admits at once after an idle spell that handed the lease back', async () => {
    const rate = limiter({ rpm: 60_000, tpm: 1e9 });
    (await rate.acquire(call())).release();
    await sleep(LEASE_IDLE_MILLIS * 3);
    const idle = await rate.inspect('openai:gpt-4o-mini');
    expect(idle?.requests?.leasedUnused).toBe(0);
    let turnPassed = false;
    setImmediate(() => {
      turnPassed = true;
    });
    const permit = await rate.acquire(call());
    expect(turnPassed).toBe(false);
    permit.release();
  });

  it('returns a refunded permit to the bucket', async () => {
    const rate = limiter({ rpm: 60, burstRequests: 2, maxWaitMillis: 50 });
    const first = await rate.acquire(call());
    (await rate.acquire(call())).release();
    await expect(rate.acquire(call())).rejects.toMatchObject({ reason: 'max-wait-exceeded' });
    first.refund();
    first.refund(); // a repeat changes nothing
    await expect(rate.acquire(call())).resolves.toBeDefined();
    await expect(rate.acquire(call())).rejects.toMatchObject({ reason: 'max-wait-exceeded' });
  });

  it('stays within burst + rate × (window + 2 refill ticks) when demand switches from light to flooding', async () => {
    const rpm = 6_000; // 100 per second
    const burst = 200;
    const tickMs = 250;
    const rate = limiter({ rpm, burstRequests: burst, maxWaitMillis: 5_000 });
    const times: number[] = [];
    const started = Date.now();
    // Light demand (well under the rate) lets the lease prefetch; then a flood drains the bucket.
    while (Date.now() - started < 400) {
      (await rate.acquire(call())).release();
      times.push(Date.now());
      await sleep(4);
    }
    const flood = Date.now() + 1_200;
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        while (Date.now() < flood) {
          const permit = await rate.acquire(call()).catch(() => undefined);
          if (!permit) return;
          times.push(Date.now());
          permit.release();
        }
      }),
    );
    times.sort((a, b) => a - b);
    const ratePerMs = rpm / 60_000;
    // The documented worst case: a leased permit is used at most one tick after bottleneck
    // gave it out, so the error over bottleneck's own bound is one more tick of refill.
    const allowedIn = (spanMs: number) => burst + ratePerMs * (spanMs + 2 * tickMs) + 1;
    for (let first = 0; first < times.length; first += 5) {
      for (let last = first; last < times.length; last += 5) {
        expect(last - first + 1).toBeLessThanOrEqual(allowedIn(times[last]! - times[first]!));
      }
    }
    // It did bind: the flood took the whole burst and then waited on refills.
    expect(times.length).toBeGreaterThan(burst);
  });

  it('never holds more unused permits than its cap, and none once the bucket binds', async () => {
    const rate = limiter({ rpm: 6_000, burstRequests: 400, maxWaitMillis: 5_000 }); // cap: min(5% of 400, 100/s × 250 ms) = 20
    const seen: number[] = [];
    const stopAt = Date.now() + 1_500;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (Date.now() < stopAt) {
          const permit = await rate.acquire(call()).catch(() => undefined);
          if (!permit) return;
          permit.release();
          seen.push((await rate.inspect('openai:gpt-4o-mini'))!.requests!.leasedUnused);
        }
      }),
    );
    expect(Math.max(...seen)).toBeLessThanOrEqual(20);
    // After the 400-permit burst is gone the limit binds: leases shrink to what waiters take.
    expect(seen.slice(-20).every((unused) => unused <= 1)).toBe(true);
  });

  it('keeps maxConcurrent exact while rate permits come from leases', async () => {
    const rate = limiter({ rpm: 600_000, maxConcurrent: 3, maxWaitMillis: 5_000 });
    let inFlight = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 60 }, async (_, index) => {
        const permit = await rate.acquire(call({ priority: index % 2 === 0 ? 'interactive' : 'background' }));
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(index % 4);
        inFlight--;
        permit.release();
      }),
    );
    expect(most).toBe(3);
  });
});

describe('RateLimiter provider feedback', () => {
  it('caps the bucket once, however many replies carrying remaining counts arrive at once', async () => {
    const rate = limiter({ rpm: 100_000, maxWaitMillis: 200 });
    const permits = await Promise.all(Array.from({ length: 16 }, () => rate.acquire(call())));
    for (const permit of permits) permit.release();
    const appliedMs = Date.now();
    // The provider allows far less than the local limit: each of 16 replies says about 1,000 remain.
    await Promise.all(
      Array.from({ length: 16 }, (_, index) =>
        rate.applyFeedback({ provider: 'openai', model: 'gpt-4o-mini', remainingRequests: 1_000 - index }),
      ),
    );
    const state = (await rate.inspect('openai:gpt-4o-mini'))!.requests!;
    const canAdmit = state.reservoir! + state.leasedUnused - state.owed;
    // min over the replies, not the sum of 16 excesses (which drove a real bucket to −1.3 M).
    expect(canAdmit).toBeGreaterThanOrEqual(0);
    // Plus what the bucket refilled meanwhile (100,000 a minute).
    expect(canAdmit).toBeLessThanOrEqual(
      985 + Math.ceil(((Date.now() - appliedMs + 250) * 100_000) / 60_000),
    );
    // The next call is admitted, not refused for minutes.
    await expect(rate.acquire(call())).resolves.toBeDefined();
  });

  it('caps the token bucket the same way', async () => {
    const rate = limiter({ tpm: 1_000_000, maxWaitMillis: 200 });
    (await rate.acquire(call({ weightTokens: 100 }))).release();
    await Promise.all(
      Array.from({ length: 16 }, () =>
        rate.applyFeedback({ provider: 'openai', model: 'gpt-4o-mini', remainingTokens: 50_000 }),
      ),
    );
    const state = (await rate.inspect('openai:gpt-4o-mini'))!.tokens!;
    expect(state.reservoir! + state.leasedUnused - state.owed).toBeGreaterThanOrEqual(0);
    // Plus at most a refill tick or so (1,000,000 a minute is ~4,200 per 250 ms).
    expect(state.reservoir! + state.leasedUnused - state.owed).toBeLessThanOrEqual(55_000);
    await expect(rate.acquire(call({ weightTokens: 100 }))).resolves.toBeDefined();
  });
});

describe('RateLimiter aborts', () => {
  it('rejects an aborted waiter at once with the signal reason and gives its place to the next caller', async () => {
    const rate = limiter({ rpm: 60, burstRequests: 1, maxWaitMillis: 5_000 }); // one permit a second
    const started = Date.now();
    (await rate.acquire(call())).release();
    const controller = new AbortController();
    const aborted = rate.acquire(call(), controller.signal).catch((error: unknown) => error);
    const next = rate.acquire(call()).then(() => Date.now() - started);
    await sleep(100);
    const abortedAt = Date.now();
    controller.abort();
    const error = await aborted;
    expect(Date.now() - abortedAt).toBeLessThan(50);
    expect((error as Error).name).toBe('AbortError');
    // The next caller takes the first refill, not the one after it.
    expect(await next).toBeLessThan(1_700);
    // Nothing was taken on the aborted call's behalf: the bucket is empty only of the two admitted calls.
    await expect(rate.acquire(call({}), AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('leaves the concurrency queue at once when aborted', async () => {
    const rate = limiter({ maxConcurrent: 1, maxWaitMillis: 5_000 });
    const first = await rate.acquire(call());
    const controller = new AbortController();
    const aborted = rate.acquire(call(), controller.signal);
    const next = rate.acquire(call());
    controller.abort(new Error('user went away'));
    await expect(aborted).rejects.toThrow('user went away');
    first.release();
    const permit = await next;
    expect(permit.waitMillis).toBeLessThan(1_000);
    expect((await rate.inspect('openai:gpt-4o-mini'))?.running).toBe(1);
  });

  it('ends a provider back-off wait at once when aborted', async () => {
    const rate = limiter({ rpm: 6_000, maxWaitMillis: 5_000 });
    await rate.applyFeedback({ provider: 'openai', model: 'gpt-4o-mini', retryAfterMillis: 2_000 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    await expect(rate.acquire(call(), controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(200);
  });
});

describe('RateLimiter.take', () => {
  it('hands over the permit itself while the buckets hold permits, and a promise once the call must queue', async () => {
    const rate = limiter({ rpm: 600, burstRequests: 2, maxConcurrent: 5 });
    const first = rate.take(call());
    expect(first).not.toBeInstanceOf(Promise);
    const second = rate.take(call());
    expect(second).not.toBeInstanceOf(Promise);
    // The bucket is empty: the third call queues for the next refill.
    const third = rate.take(call());
    expect(third).toBeInstanceOf(Promise);
    expect(await third).toMatchObject({ limiterKeys: expect.any(Array) });
    for (const permit of [first, second, await third]) (permit as Awaited<typeof third>).release();
  });

  it('throws at once what it can tell at once, where acquire() rejects', async () => {
    const rate = limiter({ tpm: 1_000, burstTokens: 1_000 });
    expect(() => rate.take(call({ weightTokens: 5_000 }))).toThrow(RateLimitedError);
    await expect(rate.acquire(call({ weightTokens: 5_000 }))).rejects.toThrow(RateLimitedError);
  });
});
