import type { Cluster, Redis } from 'ioredis';
import type { RedisStoreEventHook, UnavailablePolicy } from './redis-store-events';

/** How to reach Redis and what to do when it cannot be reached. */
export interface RedisConnectionOptions {
  /**
   * Redis URL (`redis://`, `rediss://`). Tollgate creates the client and closes it on `close()`.
   * Falls back to the `TOLLGATE_REDIS_URL` environment variable when neither `url` nor `client` is set.
   */
  url?: string;
  /** An existing ioredis client or Cluster. Tollgate never closes it; it duplicates it for the limiter. */
  client?: Redis | Cluster;
  /**
   * Namespace of every key. It is also the hash tag: ledger keys are `{keyPrefix}:…`, so
   * one prefix lives in one Redis Cluster slot. Must not contain `{` or `}`.
   * @default 'tollgate'
   */
  keyPrefix?: string;
  /**
   * Upper bound on how long any store operation may take, waiting for a connection included.
   * Past it the call fails closed (or open), and the caller never waits longer.
   * @default 1000
   */
  commandTimeoutMillis?: number;
  /** What a call does when Redis is unavailable. @default 'fail-closed' */
  onUnavailable?: UnavailablePolicy;
  /** Receives `store-unavailable`, `store-recovered` and `limiter-recreated` events. */
  onEvent?: RedisStoreEventHook;
}
