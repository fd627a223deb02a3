import { counterKey, createGuard, type Guard } from '@tollgate/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, startRedisServer, type TestRedisServer } from '../../test/redis-server';
import { listBudgetCounters } from './list-budget-counters';
import { createRedisLedger } from './redis-ledger';

const skip = skipWithoutRedis();

const CALL = {
  provider: 'openai',
  operation: 'chat',
  model: 'gpt-4o',
  body: { max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] },
} as const;

describe.skipIf(skip)('listBudgetCounters against a real redis-server', { timeout: 20_000 }, () => {
  let server: TestRedisServer;
  let client: Redis;
  const guards: Guard[] = [];
  const guardOn = (keyPrefix: string, leaseMillis = 600_000) => {
    const guard = createGuard({
      budgets: [{ id: 'daily', limit: { usd: 5, requests: 100 }, window: 'day', per: ['tenant'] }],
      leaseMillis,
      ledger: createRedisLedger({ client, keyPrefix }),
    });
    guards.push(guard);
    return guard;
  };

  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url);
  }, 20_000);

  afterAll(async () => {
    await Promise.all(guards.map((guard) => guard.close()));
    await client?.quit();
    await server?.dispose();
  });

  it('lists the counters of one prefix only, in budget units, as the guard sees them', async () => {
    const mine = guardOn('team*a');
    const other = guardOn('teamXa');
    const admission = await mine.admit(CALL, { scope: { tenant: 'acme' } });
    await admission.settle({ inputTokens: 1000, outputTokens: 500 });
    await (await other.admit(CALL, { scope: { tenant: 'acme' } })).settle({
      inputTokens: 1,
      outputTokens: 1,
    });

    const listing = await listBudgetCounters({ client, keyPrefix: 'team*a' });
    expect(Math.abs(listing.nowMs - Date.now())).toBeLessThan(5_000);
    const statuses = await mine.budgetStatus('daily', { tenant: 'acme' });
    expect(listing.counters).toHaveLength(2);
    for (const status of statuses) {
      const counter = listing.counters.find((candidate) => candidate.unit === status.unit)!;
      expect(counter).toMatchObject({
        budgetId: 'daily',
        scope: { tenant: 'acme' },
        limit: status.limit,
        spent: status.spent,
        reserved: status.reserved,
        resetAtMs: status.resetAtMs,
      });
      expect(counter.window.kind).toBe('calendar');
    }
    expect(listing.counters.find((counter) => counter.unit === 'usd')!.spent).toBeCloseTo(0.0075, 9);
  });

  it('shows an overdue lease as the next reservation will find it, under the given policy', async () => {
    // A bare ledger: no guard collects the expired lease while the listing runs.
    const ledger = createRedisLedger({ client, keyPrefix: 'overdue' });
    try {
      const endMs = Date.now() + 3_600_000;
      await ledger.reserve({
        reservationId: 'late-call',
        leaseMillis: 50,
        lines: [
          {
            key: counterKey('hourly', 'requests', {}, endMs - 3_600_000),
            limit: 10,
            amount: 1,
            window: { kind: 'calendar', startMs: endMs - 3_600_000, endMs },
            thresholds: [],
          },
        ],
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const counter = async (leaseExpiry: 'charge-reserved' | 'release') =>
        (await listBudgetCounters({ client, keyPrefix: 'overdue', leaseExpiry })).counters[0];
      expect(await counter('release')).toMatchObject({ budgetId: 'hourly', spent: 0, reserved: 0 });
      expect(await counter('charge-reserved')).toMatchObject({ budgetId: 'hourly', spent: 1, reserved: 0 });
    } finally {
      await ledger.close();
    }
  });

  it('rejects with a clear message when Redis does not answer in time', async () => {
    await expect(listBudgetCounters({ url: 'redis://127.0.0.1:1', timeoutMillis: 500 })).rejects.toThrow(
      /^Cannot connect to Redis: connect ECONNREFUSED 127\.0\.0\.1:1$/,
    );
  });
});
