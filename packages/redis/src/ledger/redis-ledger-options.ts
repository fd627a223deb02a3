import type { LeaseExpiryPolicy } from '@tollgate/core';
import { positiveOption, readConnectionOptions, readLeaseExpiry } from '../connection/read-redis-options';
import type { RedisConnectionOptions } from '../connection/redis-connection-options';

/** Options of `createRedisLedger()`. */
export interface RedisLedgerOptions extends RedisConnectionOptions {
  /** What an expired lease costs; the guard reads it from the ledger. @default 'charge-reserved' */
  leaseExpiry?: LeaseExpiryPolicy;
  /**
   * How long a calendar window's counter is kept after the window ends (late settlements
   * still land in it). Rolling counters live for the window length plus one slice plus this.
   * @default 600_000 (10 minutes)
   */
  keyGraceMillis?: number;
  /** How long a reservation's final status is remembered for idempotent repeats. @default 3_600_000 (1 hour) */
  outcomeTtlMillis?: number;
  /** How often the offset between this process's clock and Redis `TIME` is measured again. @default 30_000 */
  clockSyncIntervalMillis?: number;
  /** Most expired leases one `collectExpired()` ends. @default 500 */
  expiredBatchSize?: number;
  /**
   * Most settles and releases kept for a retry while Redis is unavailable (a few hundred
   * bytes each). Past it the oldest is dropped with a `settlement-dropped` event, and its
   * lease ends it.
   * @default 10_000
   */
  maxPendingSettlements?: number;
}

/** The ledger's options, checked before anything connects, with defaults filled in. */
export function readLedgerOptions(options: RedisLedgerOptions) {
  return {
    ...readConnectionOptions(options),
    leaseExpiry: readLeaseExpiry(options.leaseExpiry),
    keyGraceMillis: positiveOption(options.keyGraceMillis, 'keyGraceMillis', 600_000),
    outcomeTtlMillis: positiveOption(options.outcomeTtlMillis, 'outcomeTtlMillis', 3_600_000),
    clockSyncIntervalMillis: positiveOption(
      options.clockSyncIntervalMillis,
      'clockSyncIntervalMillis',
      30_000,
    ),
    expiredBatchSize: Math.floor(positiveOption(options.expiredBatchSize, 'expiredBatchSize', 500)),
    maxPendingSettlements: Math.floor(
      positiveOption(options.maxPendingSettlements, 'maxPendingSettlements', 10_000),
    ),
  };
}
