import { createGuard, type Guard } from '@tollgate/core';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, type TestRedisServer } from '../../test/redis-server';
import type { RedisStoreEvent } from '../connection/redis-store-events';
import { GuardStoreUnavailableError } from '../errors/guard-store-unavailable-error';
import { createRedisLimiterDatastore } from './redis-limiter-datastore';
import type { RedisLimiterOptions } from './redis-limiter-options';
import { chat, restartIfStopped, startAdminRedis, stopAdminRedis } from './test-support';

const skip = skipWithoutRedis();

const MAX_WAIT_MILLIS = 1_000;
/** What a call may take beyond maxWaitMillis: timers, a loaded machine. */
const SLACK_MILLIS = 300;

interface Answer {
  outcome: 'allowed' | 'refused' | 'error' | 'no answer';
  millis: number;
  error?: unknown;
}

/** Admits one call and says how it ended and how long it took; "no answer" after 5 s. */
async function answer(gate: Guard): Promise<Answer> {
  const startedMs = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    gate.admit(chat()).then(
      async (admission) => {
        await admission.settle(undefined);
        return { outcome: 'allowed' as const };
      },
      (error: unknown) => ({
        outcome: GuardStoreUnavailableError.isInstance(error) ? ('refused' as const) : ('error' as const),
        error,
      }),
    ),
    new Promise<{ outcome: 'no answer' }>((resolve) => {
      timer = setTimeout(() => resolve({ outcome: 'no answer' }), 5_000);
    }),
  ]);
  clearTimeout(timer);
  return { ...outcome, millis: Date.now() - startedMs };
}

describe.skipIf(skip)('shared rate limits when Redis is absent, never ready or goes away', () => {
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
    await restartIfStopped({ server, admin });
  });

  afterAll(async () => {
    await stopAdminRedis({ server, admin });
  });

  /** A rate-limit-only guard (no budgets) on a fresh key prefix. */
  function limitOnlyGuard(events: RedisStoreEvent[], options: RedisLimiterOptions = {}): Guard {
    const datastore = createRedisLimiterDatastore({
      url: server.url,
      keyPrefix: `outage-${++prefixes}`,
      commandTimeoutMillis: 500,
      onEvent: (event) => events.push(event),
      ...options,
    });
    guard = createGuard({
      rateLimits: [{ provider: 'openai', rpm: 600, maxConcurrent: 4, maxWaitMillis: MAX_WAIT_MILLIS }],
      limiter: { datastore },
    });
    return guard;
  }

  it('answers every call typed within maxWaitMillis when Redis is absent at start, and resumes once it is up', async () => {
    await server.stop();
    const events: RedisStoreEvent[] = [];
    const gate = limitOnlyGuard(events);
    const answers = [await answer(gate), await answer(gate)];
    answers.push(...(await Promise.all(Array.from({ length: 5 }, () => answer(gate)))));
    for (const { outcome, millis, error } of answers) {
      expect(outcome, String(error)).toBe('refused');
      expect(millis).toBeLessThanOrEqual(MAX_WAIT_MILLIS + SLACK_MILLIS);
    }
    expect(answers[0]!.error).toMatchObject({ operation: 'rate-limit', limiterKey: 'openai:gpt-4o-mini' });
    expect(events.map((event) => event.type)).toContain('store-unavailable');

    await server.start();
    const deadline = Date.now() + 8_000;
    let resumed: Answer | undefined;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      resumed = await answer(gate);
      expect(resumed.millis).toBeLessThanOrEqual(MAX_WAIT_MILLIS + SLACK_MILLIS);
      if (resumed.outcome === 'allowed') break;
    }
    expect(resumed?.outcome).toBe('allowed');
  }, 30_000);

  it('lets calls through unmetered within maxWaitMillis under fail-open when Redis is absent at start', async () => {
    await server.stop();
    const events: RedisStoreEvent[] = [];
    const gate = limitOnlyGuard(events, { onUnavailable: 'fail-open' });
    for (const { outcome, millis } of await Promise.all(Array.from({ length: 4 }, () => answer(gate)))) {
      expect(outcome).toBe('allowed');
      expect(millis).toBeLessThanOrEqual(MAX_WAIT_MILLIS + SLACK_MILLIS);
    }
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'store-unavailable', policy: 'fail-open' }),
    );
  }, 20_000);

  it('answers typed within maxWaitMillis when its connection never becomes ready (it cannot authenticate)', async () => {
    await admin.config('SET', 'requirepass', 'not-given-to-the-guard');
    try {
      const events: RedisStoreEvent[] = [];
      const gate = limitOnlyGuard(events);
      const answers = [await answer(gate)];
      answers.push(...(await Promise.all(Array.from({ length: 5 }, () => answer(gate)))));
      for (const { outcome, millis, error } of answers) {
        expect(outcome, String(error)).toBe('refused');
        expect(millis).toBeLessThanOrEqual(MAX_WAIT_MILLIS + SLACK_MILLIS);
      }
    } finally {
      await admin.config('SET', 'requirepass', '');
    }
  }, 20_000);

  it('closes during an outage without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const gate = limitOnlyGuard([]);
      // Two models: two buckets each subscribed to their channels on the shared connection.
      await (await gate.admit(chat('gpt-4o-mini'))).settle(undefined);
      await (await gate.admit(chat('gpt-4o'))).settle(undefined);
      await server.stop();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await gate.close();
      guard = undefined;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(unhandled.map((reason) => String(reason))).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 15_000);
});
