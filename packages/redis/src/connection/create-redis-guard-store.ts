import type { BudgetLedger } from '@tollgate/core';
import { resolveLedgerClient } from '../internal/redis-clients';
import { createRedisLedger, type RedisLedger } from '../ledger/redis-ledger';
import { type RedisLedgerOptions, readLedgerOptions } from '../ledger/redis-ledger-options';
import { createRedisLimiterDatastore, type RedisLimiterDatastore } from '../limiter/redis-limiter-datastore';
import { type RedisLimiterOptions, readLimiterOptions } from '../limiter/redis-limiter-options';

/** Options of `createRedisGuardStore()`: the ledger's and the limiter's, over one connection. */
export interface RedisGuardStoreOptions extends RedisLedgerOptions, RedisLimiterOptions {}

/** The guard config fields that move budgets and rate limits to Redis. */
export interface RedisGuardStore {
  ledger: BudgetLedger & Pick<RedisLedger, 'keyPrefix'>;
  limiter: { datastore: RedisLimiterDatastore };
}

/**
 * Moves budgets and rate limits to Redis with one config change: spread the result into
 * `createGuard()`. Both share one client (the limiter duplicates it for bottleneck);
 * `guard.close()` closes everything Tollgate opened.
 *
 * @example
 * ```ts
 * const guard = createGuard({
 *   budgets: [{ id: 'daily', limit: { usd: 25 }, window: 'day' }],
 *   rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 500 }],
 *   ...createRedisGuardStore({ url: process.env.REDIS_URL }),
 * });
 * ```
 */
export function createRedisGuardStore(options: RedisGuardStoreOptions = {}): RedisGuardStore {
  // Every option is checked before a connection is opened: a bad one leaves nothing to close.
  readLedgerOptions(options);
  readLimiterOptions(options);
  const { client, owned } = resolveLedgerClient(options);
  const shared = { ...options, client };
  const ledger = createRedisLedger(shared);
  const datastore = createRedisLimiterDatastore(shared);
  if (owned) {
    // The guard closes the limiter first, then the ledger: the ledger closes the client it shares.
    const closeLedger = ledger.close.bind(ledger);
    ledger.close = async () => {
      await closeLedger();
      if (client.status !== 'end') await client.quit().catch(() => client.disconnect());
    };
  }
  return { ledger, limiter: { datastore } };
}
