import type { CachedReply } from './cached-reply';

/**
 * Where cached replies live. `get` must never throw or hang: a store that cannot answer quickly
 * answers `undefined` (a miss). `set` is fire-and-forget: a failed write is the store's to
 * report, never the call's. Implemented in memory here; store packages implement it for a shared cache.
 */
export interface ResponseCacheStore {
  get(key: string): Promise<CachedReply | undefined>;
  set(key: string, reply: CachedReply, ttlMillis: number): void;
  /** Releases what the store holds open (connections, timers). */
  close?(): Promise<void>;
}
