import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BudgetExceededError, createGuard, type Guard, type LlmCallDescriptor } from '@tollgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, startRedisServer, type TestRedisServer } from '../../redis/test/redis-server';
import { guardStoreFromEnv } from './guard-store-from-env';

const call: LlmCallDescriptor = {
  provider: 'openai',
  operation: 'chat',
  model: 'gpt-4o-mini',
  body: { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] },
};

describe('TOLLGATE_REDIS_URL', () => {
  it('leaves the guard in memory when unset or empty', () => {
    expect(guardStoreFromEnv({})).toBeUndefined();
    expect(guardStoreFromEnv({ TOLLGATE_REDIS_URL: ' ' })).toBeUndefined();
  });

  it('fails at startup, naming the variable and the package, when @tollgate/redis is not installed', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tollgate-no-redis-'));
    try {
      expect(() => guardStoreFromEnv({ TOLLGATE_REDIS_URL: 'redis://127.0.0.1:1' }, [empty])).toThrow(
        /TOLLGATE_REDIS_URL: .*needs the package @tollgate\/redis/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  describe.skipIf(skipWithoutRedis())('with a real redis-server', () => {
    let server: TestRedisServer;
    const guards: Guard[] = [];

    beforeAll(async () => {
      server = await startRedisServer();
    }, 20_000);

    afterAll(async () => {
      await Promise.all(guards.map((guard) => guard.close()));
      await server?.dispose();
    });

    it('shares one budget between two guards started from the variable, as two replicas would be', async () => {
      const budgets = [{ id: 'fleet', limit: { requests: 1 }, window: 'day' as const }];
      const [first, second] = [0, 1].map(() => {
        const guard = createGuard({ ...guardStoreFromEnv({ TOLLGATE_REDIS_URL: server.url }), budgets });
        guards.push(guard);
        return guard;
      });
      await first!.run(call, async () => 'ok');
      await expect(second!.admit(call)).rejects.toThrow(BudgetExceededError);
    });

    it("gives the Redis ledger the config's leaseExpiry, so a guard configured with 'release' starts", async () => {
      const store = guardStoreFromEnv({ TOLLGATE_REDIS_URL: server.url }, undefined, 'release');
      const guard = createGuard({ ...store, leaseExpiry: 'release', budgets: [] });
      guards.push(guard);
      expect(store?.ledger && 'leaseExpiry' in store.ledger ? store.ledger.leaseExpiry : undefined).toBe(
        'release',
      );
    });
  });
});
