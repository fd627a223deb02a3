import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { duplicateBounded, followingPromotions } from './redis-clients';

// The connections Tollgate derives from a user's client must keep everything that lets them
// in (password, username, TLS, db) and, on Sentinel, follow promotions. Nothing listens on
// these ports: only the options are inspected.

const opened: (Redis | Cluster)[] = [];
const track = <T extends Redis | Cluster>(client: T): T => {
  client.on('error', () => {});
  opened.push(client);
  return client;
};

afterEach(() => {
  for (const client of opened.splice(0)) client.disconnect();
});

describe('connections derived from the user client', () => {
  it("keeps a Cluster's node password, username and TLS next to the bounded settings", () => {
    const tls = { servername: 'redis.internal' };
    const user = track(
      new Cluster([{ host: '127.0.0.1', port: 1 }], {
        lazyConnect: true,
        redisOptions: { password: 'pw', username: 'app', tls, connectionName: 'app' },
      }),
    );
    const duplicate = track(duplicateBounded(user, 750) as Cluster);
    expect(duplicate.options.redisOptions).toMatchObject({
      password: 'pw',
      username: 'app',
      tls,
      connectionName: 'app',
      commandTimeout: 750,
      maxRetriesPerRequest: 1,
    });
    expect(duplicate.options.enableOfflineQueue).toBe(false);
  });

  it('keeps a standalone or Sentinel client’s credentials and makes the Sentinel one follow promotions', () => {
    const standalone = track(
      new Redis({ port: 1, lazyConnect: true, password: 'pw', username: 'app', db: 3 }),
    );
    const plain = track(duplicateBounded(standalone, 500) as Redis);
    expect(plain.options).toMatchObject({ password: 'pw', username: 'app', db: 3, commandTimeout: 500 });
    expect(plain.options.failoverDetector).toBe(false);

    const sentinel = track(
      new Redis({
        sentinels: [{ host: '127.0.0.1', port: 1 }],
        name: 'primary',
        password: 'pw',
        sentinelPassword: 'spw',
        lazyConnect: true,
      }),
    );
    const bounded = track(duplicateBounded(sentinel, 500) as Redis);
    expect(bounded.options).toMatchObject({
      name: 'primary',
      password: 'pw',
      sentinelPassword: 'spw',
      failoverDetector: true,
      enableOfflineQueue: false,
    });
  });

  it('gives the ledger a duplicate that follows promotions only when the Sentinel client does not', () => {
    const sentinels = [{ host: '127.0.0.1', port: 1 }];
    const unaware = track(new Redis({ sentinels, name: 'primary', password: 'pw', lazyConnect: true }));
    const replaced = followingPromotions({ client: unaware, owned: false });
    track(replaced.client);
    expect(replaced.owned).toBe(true);
    expect(replaced.client).not.toBe(unaware);
    expect((replaced.client as Redis).options).toMatchObject({ password: 'pw', failoverDetector: true });

    const aware = track(new Redis({ sentinels, name: 'primary', failoverDetector: true, lazyConnect: true }));
    expect(followingPromotions({ client: aware, owned: false })).toEqual({ client: aware, owned: false });
    const standalone = track(new Redis({ port: 1, lazyConnect: true }));
    expect(followingPromotions({ client: standalone, owned: false }).client).toBe(standalone);
  });
});
