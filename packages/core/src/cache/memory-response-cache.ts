import { LRUCache } from 'lru-cache';
import type { CachedReply } from './cached-reply';
import { replySize } from './cached-reply';
import type { ResponseCacheStore } from './response-cache-store';

export interface MemoryResponseCacheOptions {
  /** Most replies kept; the least recently used goes first. @default 1000 */
  maxEntries?: number;
  /** Most bytes kept (bodies and headers); a reply larger than this is not kept at all. @default 64 MiB */
  maxBytes?: number;
}

export const DEFAULT_CACHE_MAX_ENTRIES = 1000;
export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024;

/** Cached replies in this process: bounded by count and bytes, least recently used evicted, each with its TTL. */
export class MemoryResponseCache implements ResponseCacheStore {
  private readonly entries: LRUCache<string, CachedReply>;

  constructor(options: MemoryResponseCacheOptions = {}) {
    this.entries = new LRUCache<string, CachedReply>({
      max: options.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
      maxSize: options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES,
      sizeCalculation: replySize,
    });
  }

  get(key: string): Promise<CachedReply | undefined> {
    return Promise.resolve(this.entries.get(key));
  }

  set(key: string, reply: CachedReply, ttlMillis: number): void {
    // lru-cache refuses (quietly) a value larger than maxSize: such a reply is simply not kept.
    this.entries.set(key, reply, { ttl: ttlMillis });
  }

  /** Replies currently kept. */
  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
