import { createGuard, type DecisionEvent, type LlmCallDescriptor } from '@tollgate/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisLedger } from '../src/ledger/redis-ledger';
import { skipWithoutRedis, startRedisServer, type TestRedisServer } from './redis-server';

const skip = skipWithoutRedis();

const chat: LlmCallDescriptor = {
  provider: 'openai',
  operation: 'chat',
  model: 'gpt-4o-mini',
  body: { model: 'gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] },
};

describe.skipIf(skip)('a settlement Redis cannot take in time', () => {
  let server: TestRedisServer;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  }, 20_000);
  afterAll(async () => {
    await admin?.quit();
    await server?.dispose();
  });

  it('is reported (settle-failed event), never thrown into the app, and the reservation still ends', async () => {
    const keyPrefix = 'settle-failure';
    const ledger = createRedisLedger({ url: server.url, keyPrefix, commandTimeoutMillis: 500 });
    const events: DecisionEvent[] = [];
    const guard = createGuard({
      ledger,
      leaseMillis: 1_000,
      budgets: [{ id: 'day', limit: { tokens: 100_000 }, window: 'day' }],
      onDecision: (event) => void events.push(event),
    });
    try {
      // Connected and scripts loaded first, so only the settle meets the stall.
      await expect
        .poll(
          () =>
            guard.budgetStatus('day').then(
              () => true,
              () => false,
            ),
          { timeout: 5_000 },
        )
        .toBe(true);
      const admission = await guard.admit(chat);
      // Redis stops answering every client for a while: the settle times out.
      await admin.call('CLIENT', 'PAUSE', '2500', 'ALL');
      const settlement = await admission.settle({ inputTokens: 9, outputTokens: 20 });
      expect(settlement.applied).toBe(false);
      expect(events.find((event) => event.type === 'settle-failed')).toMatchObject({
        callId: admission.callId,
        operation: 'settle',
        usage: { inputTokens: 9, outputTokens: 20 },
        leaseExpiry: 'charge-reserved',
      });
      // Once Redis answers again the reservation is ended — by the settle that landed late,
      // or by its lease — and never left behind.
      await expect
        .poll(async () => (await guard.budgetStatus('day'))[0]!.reserved, { timeout: 10_000, interval: 200 })
        .toBe(0);
      expect(await admin.zcard(`{${keyPrefix}}:leases`)).toBe(0);
      const spent = (await guard.budgetStatus('day'))[0]!.spent;
      expect([29, admission.estimate.worstCaseTokens]).toContain(spent);
    } finally {
      await guard.close();
    }
  }, 30_000);
});
