import type { Cluster, Redis } from 'ioredis';
import type { RedisStoreEventHook, UnavailablePolicy } from './redis-store-events';

/** How to reach Redis and what to do when it cannot be reached. */
export interface RedisConnectionOptions {
  /**
   * Redis URL (`redis://`, `rediss://`). Tollgate creates the client and closes it on `close()`.
   * Falls back to the `TOLLGATE_REDIS_URL` environment variable when neither `url` nor `client` is set.
   */
  url?: string;
  /**
   * An existing ioredis client or Cluster (ioredis 5 or 6). Tollgate never closes it. The
   * limiter works on a duplicate that keeps its password, username, TLS and nodes. A
   * Sentinel client should set `failoverDetector: true`; without it the ledger writes
   * through a duplicate that does (Tollgate closes that one).
   */
  client?: Redis | Cluster;
  /**
   * Namespace of every key. It is also the hash tag of ledger keys (`{keyPrefix}:…`), so
   * one prefix's budgets live in one Redis Cluster slot. Rate-limit buckets are tagged with
   * their limiter key instead, so the same bucket (say `openai:gpt-4o-mini`) under two
   * prefixes shares a slot. Must not contain `{` or `}`.
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
