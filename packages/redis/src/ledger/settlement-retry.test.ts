import type { LedgerLine } from '@tollgate/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, startRedisServer, type TestRedisServer } from '../../test/redis-server';
import type { RedisStoreEvent } from '../connection/redis-store-events';
import { GuardStoreUnavailableError } from '../errors/guard-store-unavailable-error';
import { createRedisLedger, type RedisLedger } from './redis-ledger';

// A settle that cannot reach Redis must land once Redis is back, not wait for the lease to
// charge the reservation its worst case. The server keeps its data across a restart (AOF),
// as a production Redis holding budgets does.

const skip = skipWithoutRedis();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LEASE = 600_000;

function line(key: string, amount: number): LedgerLine {
  return { key, limit: 1_000, amount, window: { kind: 'rolling', lengthMs: 3_600_000 }, thresholds: [] };
}

async function waitFor(what: string, check: () => boolean, timeoutMillis = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe.skipIf(skip)('settles that fail while Redis is unavailable', () => {
  let server: TestRedisServer;
  let ledger: RedisLedger | undefined;
  let prefixes = 0;

  beforeAll(async () => {
    server = await startRedisServer({ persistent: true });
  }, 20_000);

  afterEach(async () => {
    await ledger?.close();
    ledger = undefined;
  });

  afterAll(async () => {
    await server?.dispose();
  });

  function open(events: RedisStoreEvent[], options: { maxPendingSettlements?: number } = {}): RedisLedger {
    ledger = createRedisLedger({
      url: server.url,
      keyPrefix: `retry-${++prefixes}`,
      commandTimeoutMillis: 300,
      onEvent: (event) => events.push(event),
      ...options,
    });
    return ledger;
  }

  it('applies a settle that failed during an outage once Redis is back, long before the lease', async () => {
    const events: RedisStoreEvent[] = [];
    const store = open(events);
    expect(
      (await store.reserve({ reservationId: 'r1', lines: [line('k', 500)], leaseMillis: LEASE })).ok,
    ).toBe(true);

    await server.stop();
    const failed = await store.settle('r1', [40]).catch((error: unknown) => error);
    expect(GuardStoreUnavailableError.isInstance(failed)).toBe(true);
    // Still held at its worst case while Redis is away.
    await server.start();

    await waitFor('the retried settle', () => events.some((event) => event.type === 'settlement-retried'));
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'settlement-retried',
        operation: 'settle',
        reservationId: 'r1',
        applied: true,
        status: 'settled',
      }),
    );
    const [state] = await store.peek([line('k', 0)]);
    expect(state).toMatchObject({ spent: 40, reserved: 0 });
    // A repeat of the original settle now reports the retry's outcome and changes nothing.
    expect(await store.settle('r1', [40])).toMatchObject({ status: 'settled', applied: false });
    expect((await store.peek([line('k', 0)]))[0]).toMatchObject({ spent: 40, reserved: 0 });
  }, 20_000);

  it('retries a release and a settle that already landed without charging twice', async () => {
    const events: RedisStoreEvent[] = [];
    const store = open(events);
    await store.reserve({ reservationId: 'a', lines: [line('k', 100)], leaseMillis: LEASE });
    await store.reserve({ reservationId: 'b', lines: [line('k', 100)], leaseMillis: LEASE });
    await store.settle('b', [7]);
    await server.stop();
    await expect(store.release('a')).rejects.toSatisfy(GuardStoreUnavailableError.isInstance);
    await expect(store.settle('b', [7])).rejects.toSatisfy(GuardStoreUnavailableError.isInstance);
    await server.start();
    await waitFor(
      'both retries',
      () => events.filter((event) => event.type === 'settlement-retried').length === 2,
    );
    const retried = events.filter((event) => event.type === 'settlement-retried');
    expect(retried).toContainEqual(
      expect.objectContaining({
        reservationId: 'a',
        operation: 'release',
        applied: true,
        status: 'released',
      }),
    );
    expect(retried).toContainEqual(
      expect.objectContaining({ reservationId: 'b', operation: 'settle', applied: false, status: 'settled' }),
    );
    expect((await store.peek([line('k', 0)]))[0]).toMatchObject({ spent: 7, reserved: 0 });
  }, 20_000);

  it('keeps at most maxPendingSettlements and reports what it drops, on overflow and on close', async () => {
    const events: RedisStoreEvent[] = [];
    const store = open(events, { maxPendingSettlements: 2 });
    for (const id of ['x', 'y', 'z']) {
      await store.reserve({ reservationId: id, lines: [line('k', 10)], leaseMillis: LEASE });
    }
    await server.stop();
    for (const id of ['x', 'y', 'z']) await store.settle(id, [1]).catch(() => {});
    const dropped = () => events.filter((event) => event.type === 'settlement-dropped');
    expect(dropped()).toEqual([
      expect.objectContaining({ reservationId: 'x', operation: 'settle', reason: 'queue-full' }),
    ]);
    await store.close();
    expect(
      dropped().map((event) => [
        event.type === 'settlement-dropped' && event.reason,
        'reservationId' in event && event.reservationId,
      ]),
    ).toEqual([
      ['queue-full', 'x'],
      ['closed', 'y'],
      ['closed', 'z'],
    ]);
    await server.start();
  }, 20_000);

  it('drops, and reports, a retried settle that Redis rejects instead of retrying it forever', async () => {
    const events: RedisStoreEvent[] = [];
    const store = open(events);
    await store.reserve({ reservationId: 'bad', lines: [line('k', 10)], leaseMillis: LEASE });
    await store.reserve({ reservationId: 'good', lines: [line('k', 10)], leaseMillis: LEASE });
    await server.stop();
    // Two amounts for a one-line reservation: only the script can tell, once it runs.
    await store.settle('bad', [1, 2]).catch(() => {});
    await store.settle('good', [3]).catch(() => {});
    await server.start();
    await waitFor('the retries', () =>
      events.some((event) => event.type === 'settlement-retried' && event.reservationId === 'good'),
    );
    await waitFor('the rejected one to be dropped', () =>
      events.some((event) => event.type === 'settlement-dropped'),
    );
    const dropped = events.find((event) => event.type === 'settlement-dropped');
    expect(dropped).toMatchObject({ reservationId: 'bad', reason: 'rejected' });
    expect(dropped?.type === 'settlement-dropped' && dropped.error?.message).toMatch(/TOLLGATE_AMOUNTS/);
    expect((await store.peek([line('k', 0)]))[0]).toMatchObject({ spent: 3, reserved: 10 });
  }, 20_000);

  it('counts an outage from the start of the first failed operation, not from its timeout', async () => {
    const events: RedisStoreEvent[] = [];
    const store = open(events);
    await store.peek([line('k', 0)]);
    const admin = new Redis(server.url);
    try {
      await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
      const startedMs = Date.now();
      await expect(store.peek([line('k', 0)])).rejects.toSatisfy(GuardStoreUnavailableError.isInstance);
      let recoveredMs = 0;
      while (recoveredMs === 0) {
        try {
          await store.peek([line('k', 0)]);
          recoveredMs = Date.now();
        } catch {
          await sleep(20);
        }
      }
      const recovered = events.find((event) => event.type === 'store-recovered');
      expect(recovered).toBeDefined();
      if (recovered?.type !== 'store-recovered') return;
      // The outage began when the first failed peek was sent; its 300 ms bound is part of it.
      expect(recovered.outageMillis).toBeGreaterThanOrEqual(recoveredMs - startedMs - 30);
      expect(recovered.outageMillis).toBeLessThanOrEqual(recoveredMs - startedMs + 30);
    } finally {
      admin.disconnect();
    }
  }, 20_000);
});
