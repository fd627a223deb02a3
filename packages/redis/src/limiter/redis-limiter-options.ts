import { positiveOption, readConnectionOptions } from '../connection/read-redis-options';
import type { RedisConnectionOptions } from '../connection/redis-connection-options';

/** Options of `createRedisLimiterDatastore()`. */
export interface RedisLimiterOptions extends RedisConnectionOptions {
  /**
   * bottleneck's heartbeat, which is the refill tick: how late a queued call may learn that
   * capacity came back. Redis load is one script per bucket per process per beat.
   * @default 250
   */
  heartbeatIntervalMillis?: number;
  /**
   * A call's concurrency slot is freed after this long even if its process crashed while
   * holding it. Keep it at least the guard's `leaseMillis`.
   * @default 600_000 (10 minutes)
   */
  jobExpirationMillis?: number;
  /** An idle bucket's keys expire after max(this, its full refill time, `jobExpirationMillis`). @default 60_000 */
  keyTtlMillis?: number;
}

/** The limiter's options, checked before anything connects, with defaults filled in. */
export function readLimiterOptions(options: RedisLimiterOptions) {
  return {
    ...readConnectionOptions(options),
    heartbeatIntervalMillis: positiveOption(options.heartbeatIntervalMillis, 'heartbeatIntervalMillis', 250),
    jobExpirationMillis: positiveOption(options.jobExpirationMillis, 'jobExpirationMillis', 600_000),
    keyTtlMillis: positiveOption(options.keyTtlMillis, 'keyTtlMillis', 60_000),
  };
}
