import { TollgateConfigError } from '@tollgate/core';
import { type Cluster, Redis as IORedis, type Redis, type RedisOptions } from 'ioredis';
import type { RedisConnectionOptions } from '../connection/redis-connection-options';

/** A client and whether Tollgate created it (and so must close it). */
export interface OwnedClient {
  client: Redis | Cluster;
  owned: boolean;
}

/** Reconnect quickly at first, then at most once a second, forever. */
export const RECONNECT: Pick<RedisOptions, 'retryStrategy'> = {
  retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
};

/** The user's client, or one made from `url` / `TOLLGATE_REDIS_URL`. */
export function resolveClient(
  options: RedisConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
): OwnedClient {
  if (options.client) return { client: options.client, owned: false };
  const url = options.url ?? env.TOLLGATE_REDIS_URL;
  if (!url) {
    throw new TollgateConfigError(
      'url',
      'is required (or `client`, or the TOLLGATE_REDIS_URL environment variable)',
      url,
    );
  }
  const client = new IORedis(url, { ...RECONNECT, maxRetriesPerRequest: 2 });
  // ioredis prints unhandled 'error' events; outages are reported through the store's own events.
  client.on('error', () => {});
  return { client, owned: true };
}

/** Closes a client Tollgate created, without waiting on a dead server. */
export async function closeClient(client: Redis | Cluster, timeoutMillis: number): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.quit().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMillis);
    }),
  ]);
  clearTimeout(timer);
  if ((client.status as string) !== 'end') client.disconnect();
}

/**
 * A second connection for bottleneck that never queues a command while disconnected and
 * never waits longer than `timeoutMillis` for an answer.
 */
export function duplicateBounded(client: Redis | Cluster, timeoutMillis: number): Redis | Cluster {
  const bounded = { enableOfflineQueue: false, commandTimeout: timeoutMillis, maxRetriesPerRequest: 1 };
  const duplicate = client.isCluster
    ? (client as Cluster).duplicate([], { enableOfflineQueue: false, redisOptions: bounded })
    : (client as Redis).duplicate({ ...RECONNECT, ...bounded });
  duplicate.on('error', () => {});
  return duplicate;
}

/** Validates a key prefix: it becomes a hash tag, so braces would break Cluster routing. */
export function keyPrefixOf(options: RedisConnectionOptions): string {
  const prefix = options.keyPrefix ?? 'tollgate';
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new TollgateConfigError('keyPrefix', 'must be a non-empty string without { or }', prefix);
  }
  return prefix;
}

export function positiveMillis(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TollgateConfigError(name, 'must be a positive number of milliseconds', value);
  }
  return value;
}
