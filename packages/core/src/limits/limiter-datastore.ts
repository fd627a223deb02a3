import type Bottleneck from 'bottleneck';

/**
 * Where rate-limit buckets live when several processes share them: bottleneck's Redis
 * clustering over one ioredis connection. `@tollgate/redis` builds it
 * (`createRedisLimiterDatastore()`); without one, buckets are local to the process.
 */
export interface LimiterDatastore {
  datastore: 'ioredis';
  /** One connection shared by every bucket of the process. */
  connection: Bottleneck.IORedisConnection;
  /**
   * Start of every bottleneck limiter id. A bucket's id is
   * `${idPrefix}{${limiterKey}}:requests` (or `:tokens`): the braces are a Redis Cluster
   * hash tag, so each bucket's keys share a slot.
   */
  idPrefix: string;
  /**
   * bottleneck's heartbeat, which is also the refill tick: queued calls learn of refilled
   * capacity at most this late. Each bucket of each process runs one script per beat.
   */
  heartbeatIntervalMillis: number;
  /**
   * A call's request-bucket slot (its concurrency weight) is freed after this long even if
   * the process holding it crashed. Keep it at least the guard's `leaseMillis`.
   */
  jobExpirationMillis: number;
  /** An idle bucket's keys expire after max(this, its full refill time, `jobExpirationMillis`). */
  keyTtlMillis: number;
  /** Bound on a bucket's answer to a new call; past it the store counts as unavailable. */
  commandTimeoutMillis: number;
  /**
   * Whether Redis is connected and answering now. False until the connection has been ready
   * at least once: a store that never connected is not available.
   */
  isAvailable(): boolean;
  /**
   * Resolves `true` once the store is available, or `false` when it is not within
   * `timeoutMillis` (at once during a known outage). Without it, an unavailable store fails
   * the call at once.
   */
  whenAvailable?(timeoutMillis: number): Promise<boolean>;
  /**
   * Sets a bucket's reservoir to `min(current, ceiling)` in one atomic step (a Lua script),
   * after applying the refills due: concurrent provider replies can each cap the bucket,
   * never drive it below the smallest ceiling.
   * @param limiterId the bucket's bottleneck id (`${idPrefix}{limiterKey}:requests`).
   * @returns the reservoir after the cap, or `null` when the bucket has no state in Redis.
   */
  capReservoir(limiterId: string, ceiling: number): Promise<number | null>;
  /**
   * Turns a failure to reach the store into the error the caller gets, or returns
   * `undefined` to let the call through without the shared limit (fail-open).
   */
  onStoreFailure(error: unknown, limiterKey: string): Error | undefined;
  /** Told when a bucket whose Redis state was lost is rebuilt. */
  onLimiterRecreated?(limiterKey: string, reason: string): void;
  /** Closes the connection; called by `RateLimiter.close()`. */
  close?(): Promise<void>;
}
