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

/** Whether the client finds its primary through Sentinel. */
function isSentinel(client: Redis | Cluster): client is Redis {
  return !client.isCluster && ((client as Redis).options.sentinels?.length ?? 0) > 0;
}

/**
 * The client the ledger writes through. A Sentinel client that does not listen for
 * promotions (`failoverDetector`) keeps writing to a primary that was paused or cut off
 * until Sentinel demotes it, and every write there is wiped: such a client is replaced by
 * a duplicate that follows promotions, which Tollgate then owns and closes.
 */
export function followingPromotions(resolved: OwnedClient): OwnedClient {
  const { client } = resolved;
  if (!isSentinel(client) || client.options.failoverDetector) return resolved;
  const duplicate = client.duplicate({ failoverDetector: true, lazyConnect: false });
  duplicate.on('error', () => {});
  return { client: duplicate, owned: true };
}

/** `resolveClient`, then `followingPromotions`: the client a ledger uses. */
export function resolveLedgerClient(options: RedisConnectionOptions): OwnedClient {
  return followingPromotions(resolveClient(options));
}

/**
 * A second connection for bottleneck that never queues a command while disconnected and
 * never waits longer than `timeoutMillis` for an answer. It keeps everything else of the
 * user's client (password, username, TLS, db, Sentinel or Cluster nodes) and, on Sentinel,
 * follows promotions.
 */
export function duplicateBounded(client: Redis | Cluster, timeoutMillis: number): Redis | Cluster {
  const bounded = { enableOfflineQueue: false, commandTimeout: timeoutMillis, maxRetriesPerRequest: 1 };
  let duplicate: Redis | Cluster;
  if (client.isCluster) {
    const cluster = client as Cluster;
    // ioredis merges a duplicate's options one level deep: `redisOptions` given here would
    // replace the user's whole object, and with it the node password, username and TLS.
    duplicate = cluster.duplicate([], {
      enableOfflineQueue: false,
      lazyConnect: false,
      redisOptions: { ...cluster.options.redisOptions, ...bounded },
    });
  } else {
    duplicate = (client as Redis).duplicate({
      ...RECONNECT,
      ...bounded,
      lazyConnect: false,
      ...(isSentinel(client) ? { failoverDetector: true } : {}),
    });
  }
  duplicate.on('error', () => {});
  return duplicate;
}
