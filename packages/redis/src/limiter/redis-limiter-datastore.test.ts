import { createGuard, type Guard } from '@tollgate/core';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, type TestRedisServer } from '../../test/redis-server';
import type { RedisStoreEvent } from '../connection/redis-store-events';
import { GuardStoreUnavailableError } from '../errors/guard-store-unavailable-error';
import { createRedisLimiterDatastore } from './redis-limiter-datastore';
import { chat, startAdminRedis, stopAdminRedis } from './test-support';

const skip = skipWithoutRedis();

describe.skipIf(skip)('shared rate limits on bottleneck + Redis 7', () => {
  let server: TestRedisServer;
  let admin: Redis;
  let guard: Guard | undefined;
  let prefixes = 0;

  beforeAll(async () => {
    ({ server, admin } = await startAdminRedis());
  }, 20_000);

  afterEach(async () => {
    await guard?.close();
    guard = undefined;
  });

  afterAll(async () => {
    await stopAdminRedis({ server, admin });
  });

  function limitedGuard(events: RedisStoreEvent[]): Guard {
    const datastore = createRedisLimiterDatastore({
      url: server.url,
      keyPrefix: `limiter-${++prefixes}`,
      commandTimeoutMillis: 500,
      onEvent: (event) => events.push(event),
    });
    guard = createGuard({
      rateLimits: [{ provider: 'openai', rpm: 600, maxConcurrent: 4 }],
      limiter: { datastore },
    });
    return guard;
  }

  it('keeps admitting after its keys vanish (Redis 7 answers ERR SETTINGS_KEY_NOT_FOUND)', async () => {
    const events: RedisStoreEvent[] = [];
    const gate = limitedGuard(events);
    await (await gate.admit(chat('gpt-4o-mini'))).settle(undefined);
    expect(await admin.keys('b_*_settings')).not.toHaveLength(0);
    // What an idle expiry or an empty restart leaves behind: no settings, no client registry.
    await admin.flushall();
    for (let call = 0; call < 3; call++) {
      const admission = await gate.admit(chat('gpt-4o-mini'));
      expect(admission.limiterKeys).toEqual(['openai:gpt-4o-mini']);
      await admission.settle(undefined);
    }
    expect(await admin.keys('b_*_settings')).not.toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('fails closed while Redis is down, then rebuilds a bucket whose limiter started during the outage', async () => {
    const events: RedisStoreEvent[] = [];
    const gate = limitedGuard(events);
    await (await gate.admit(chat('gpt-4o-mini'))).settle(undefined);
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const startedMs = Date.now();
    const error = await gate.admit(chat('gpt-4o')).catch((caught: unknown) => caught);
    expect(GuardStoreUnavailableError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ operation: 'rate-limit', limiterKey: 'openai:gpt-4o' });
    expect(Date.now() - startedMs).toBeLessThan(600);
    expect(events.map((event) => event.type)).toContain('store-unavailable');

    await server.start();
    const deadline = Date.now() + 8_000;
    let admitted = false;
    while (!admitted && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      admitted = await gate.admit(chat('gpt-4o')).then(
        async (admission) => {
          await admission.settle(undefined);
          return true;
        },
        () => false,
      );
    }
    expect(admitted).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'limiter-recreated', limiterKey: 'openai:gpt-4o' }),
    );
    expect(events).toContainEqual(expect.objectContaining({ type: 'store-recovered' }));
  }, 20_000);
});
