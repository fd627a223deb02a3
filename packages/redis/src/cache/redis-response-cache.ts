import { type CachedReply, optionalNumber, type ResponseCacheStore } from '@tollgate/core';
import type { Cluster, Redis } from 'ioredis';
import { readKeyPrefix } from '../connection/read-redis-options';
import type { RedisConnectionOptions } from '../connection/redis-connection-options';
import { closeClient, resolveClient } from '../internal/redis-clients';
import { decodeReply, encodeReply } from './reply-encoding';

/** Options of `createRedisResponseCache()`. */
export interface RedisResponseCacheOptions
  extends Pick<RedisConnectionOptions, 'url' | 'client' | 'keyPrefix'> {
  /**
   * How long a lookup may wait for Redis before the call goes to the provider as a miss. Short on
   * purpose: a slow cache must cost the call less than the time a hit saves.
   * @default 50
   */
  readTimeoutMillis?: number;
}

/**
 * A response cache every process shares through Redis (`cache.store` in the guard config).
 * One round trip per lookup (`GET`) and per store (`SET … PX ttl`, not awaited). Redis that is
 * down, slow past `readTimeoutMillis` or failing makes a lookup a miss and a store a no-op:
 * never an error, never a blocked call.
 *
 * @example
 * ```ts
 * const guard = createGuard({ cache: { store: createRedisResponseCache({ url }), rules: [{ match: { feature: 'faq' } }] } });
 * ```
 */
export function createRedisResponseCache(options: RedisResponseCacheOptions = {}): ResponseCacheStore {
  return new RedisResponseCache(options);
}

class RedisResponseCache implements ResponseCacheStore {
  private readonly client: Redis | Cluster;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly readTimeoutMillis: number;

  constructor(options: RedisResponseCacheOptions) {
    this.readTimeoutMillis =
      optionalNumber(options.readTimeoutMillis, 'readTimeoutMillis', { integer: true, min: 1 }) ?? 50;
    this.prefix = `${readKeyPrefix(options)}:cache:`;
    const { client, owned } = resolveClient(options);
    this.client = client;
    this.owned = owned;
  }

  get(key: string): Promise<CachedReply | undefined> {
    // While reconnecting, ioredis would queue the command: answer a miss at once instead.
    if (this.client.status !== 'ready') return Promise.resolve(undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.readTimeoutMillis);
    });
    const read = this.client.getBuffer(this.prefix + key).then(
      (stored) => (stored ? decodeReply(stored) : undefined),
      () => undefined,
    );
    return Promise.race([read, timeout]).finally(() => clearTimeout(timer));
  }

  set(key: string, reply: CachedReply, ttlMillis: number): void {
    if (this.client.status !== 'ready') return;
    this.client.set(this.prefix + key, encodeReply(reply), 'PX', ttlMillis).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.owned) await closeClient(this.client, 1000);
  }
}
