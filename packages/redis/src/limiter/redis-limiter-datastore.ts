import type { BucketIdentity, SharedLimiterStore } from '@tollgate/core';
import Bottleneck from 'bottleneck';
import { closeClient, duplicateBounded, resolveClient } from '../internal/redis-clients';
import { StoreAvailability } from '../internal/store-availability';
import { createBottleneckConnection, isLostState } from './bottleneck-connection';
import { defineCapReservoir } from './cap-reservoir-script';
import { type RedisLimiterOptions, readLimiterOptions } from './redis-limiter-options';

/** The guard's `limiter.datastore`: rate-limit buckets shared through Redis. */
export type RedisLimiterDatastore = SharedLimiterStore;

/**
 * Creates the datastore that shares rate-limit buckets (RPM, TPM, concurrency) between
 * processes through bottleneck's ioredis clustering. Pass it as the guard's `limiter.datastore`.
 *
 * @example
 * ```ts
 * const guard = createGuard({
 *   rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 500 }],
 *   limiter: { datastore: createRedisLimiterDatastore({ url: process.env.REDIS_URL }) },
 * });
 * ```
 */
export function createRedisLimiterDatastore(options: RedisLimiterOptions = {}): RedisLimiterDatastore {
  const {
    keyPrefix,
    commandTimeoutMillis: timeout,
    onUnavailable,
    onEvent,
    heartbeatIntervalMillis: heartbeat,
    jobExpirationMillis: jobExpiration,
    keyTtlMillis: keyTtl,
  } = readLimiterOptions(options);
  const base = resolveClient(options);
  // bottleneck gets clients of its own that never queue a command while disconnected and
  // never wait longer than the bound: a call fails over to the policy instead of hanging.
  const client = duplicateBounded(base.client, timeout);
  const store = new StoreAvailability(client, timeout, onUnavailable, onEvent);
  const { connection, tracker } = createBottleneckConnection(client, timeout, () =>
    store.succeeded('rate-limit'),
  );
  const capReservoir = defineCapReservoir(client);
  const idPrefix = `${keyPrefix}:limiter:`;
  let closed = false;
  return {
    shared: true,
    heartbeatIntervalMillis: heartbeat,
    // bottleneck's Redis scripts change the reservoir with `HINCRBY`, which fails for good once
    // the stored value has a fraction ("hash value is not an integer").
    wholePermits: true,
    jobExpirationMillis: jobExpiration,
    commandTimeoutMillis: timeout,
    createLimiter: (bucket, limiterOptions) =>
      new Bottleneck({
        ...limiterOptions,
        id: bucketId(idPrefix, bucket),
        datastore: 'ioredis',
        connection,
        // Other processes share these keys: never wipe them on start.
        clearDatastore: false,
        // Idle keys expire. A bucket rebuilt after that starts full, which is exact once it
        // has been idle for its full refill time; a running call's slot lasts until its job expires.
        timeout: Math.max(keyTtl, bucket.refillMillis, jobExpiration),
      } as Bottleneck.ConstructorOptions),
    // A connection that has never been ready is not available: calls wait for it only within
    // the bound (`whenAvailable`), then get the policy's answer — never an unbounded wait.
    isAvailable: () => store.isConnected() && tracker.responsive(),
    whenAvailable: (timeoutMillis) => store.waitForConnection(Math.min(timeoutMillis, timeout)),
    capReservoir: (limiter, ceiling) => capReservoir(limiter.id, ceiling),
    describeFailure: (failure, boundMillis) =>
      new Error(
        failure === 'not-connected'
          ? `not connected to Redis (waited up to ${boundMillis} ms)`
          : `Redis stopped answering (bound ${boundMillis} ms)`,
      ),
    isLostState,
    onStoreFailure: (error, limiterKey) => {
      const failure = store.failure('rate-limit', error, limiterKey, tracker.failingSinceMs());
      return store.policy === 'fail-open' ? undefined : failure;
    },
    onLimiterRecreated: (limiterKey, reason) =>
      store.emit({ type: 'limiter-recreated', timestampMs: Date.now(), limiterKey, reason }),
    async close() {
      if (closed) return;
      closed = true;
      await connection.disconnect(false);
      if (base.owned) await closeClient(base.client, timeout);
    },
  };
}

/**
 * A bucket's bottleneck id: `${idPrefix}{${limiterKey}}:requests` (or `:tokens`). The braces
 * are a Redis Cluster hash tag, so each bucket's keys share a slot.
 */
function bucketId(idPrefix: string, bucket: BucketIdentity): string {
  return `${idPrefix}{${bucket.limiterKey.replace(/[{}]/g, encodeURIComponent)}}:${bucket.bucket}`;
}
