import { TollgateConfigError } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { listBudgetCounters } from '../ledger/list-budget-counters';
import { createRedisLedger } from '../ledger/redis-ledger';
import { createRedisLimiterDatastore } from '../limiter/redis-limiter-datastore';
import { createRedisGuardStore } from './create-redis-guard-store';

/** The path a construction error names, or a note that nothing (or something else) was thrown. */
function fieldOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    if (TollgateConfigError.isInstance(error)) return error.field;
    return `not a config error: ${String(error)}`;
  }
  return 'nothing thrown';
}

// Nothing listens here: every case must fail before a connection is attempted.
const url = 'redis://127.0.0.1:1';

describe('Redis options are checked at construction, naming the option', () => {
  it.each([
    ['heartbeatIntervalMillis', { heartbeatIntervalMillis: 0 }],
    ['jobExpirationMillis', { jobExpirationMillis: -5 }],
    ['keyTtlMillis', { keyTtlMillis: Number.NaN }],
    ['commandTimeoutMillis', { commandTimeoutMillis: '1000' }],
    ['onUnavailable', { onUnavailable: 'fail-sometimes' }],
    ['onEvent', { onEvent: 'log' }],
    ['keyPrefix', { keyPrefix: 'a{b}' }],
    ['url', { url: '' }],
    ['client', { client: 'redis://127.0.0.1:1' }],
  ])('limiter datastore: %s', (field, options) => {
    expect(fieldOf(() => createRedisLimiterDatastore({ url, ...options } as never))).toBe(field);
  });

  it.each([
    ['leaseExpiry', { leaseExpiry: 'refund' }],
    ['keyGraceMillis', { keyGraceMillis: 0 }],
    ['maxPendingSettlements', { maxPendingSettlements: -1 }],
    ['onUnavailable', { onUnavailable: 'open' }],
  ])('ledger: %s', (field, options) => {
    expect(fieldOf(() => createRedisLedger({ url, ...options } as never))).toBe(field);
  });

  it('guard store: ledger and limiter options are both checked', () => {
    expect(fieldOf(() => createRedisGuardStore({ url, heartbeatIntervalMillis: -1 }))).toBe(
      'heartbeatIntervalMillis',
    );
    expect(fieldOf(() => createRedisGuardStore({ url, expiredBatchSize: 0 }))).toBe('expiredBatchSize');
  });

  it('counter listing: includeEnded must be a boolean', async () => {
    const error = await listBudgetCounters({ url, includeEnded: 'yes' as never }).catch(
      (caught: unknown) => caught,
    );
    expect(TollgateConfigError.isInstance(error) && error.field).toBe('includeEnded');
  });
});
