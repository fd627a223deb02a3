import type { LedgerLine } from '@tollgate/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, startRedisServer, type TestRedisServer } from '../../test/redis-server';
import { TIME_SHIFT } from '../internal/time-shift';
import { createRedisLedger } from './redis-ledger';

// What the scripts leave in a counter's hash and on its time to live, read back from Redis.

const skip = skipWithoutRedis();
const GRACE = 60_000;

describe.skipIf(skip)('RedisLedger counter keys', () => {
  let server: TestRedisServer;
  let client: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url);
  }, 20_000);

  afterAll(async () => {
    await client?.quit();
    await server?.dispose();
  });

  it('keeps a held counter past its lease, and a calendar counter past its window end', async () => {
    const ledger = createRedisLedger({ client, keyPrefix: 'ttl', keyGraceMillis: GRACE });
    try {
      const line: LedgerLine = {
        key: 'day',
        limit: 100,
        amount: 10,
        window: { kind: 'calendar', startMs: 0, endMs: Date.now() + 120_000 },
        thresholds: [],
      };
      await ledger.reserve({ reservationId: 'long', lines: [line], leaseMillis: 3_600_000 });
      expect(await client.pttl('{ttl}:c:day')).toBeGreaterThan(3_600_000);
      await ledger.settle('long', [5]);
      const other = { ...line, key: 'short' };
      await ledger.reserve({ reservationId: 'short', lines: [other], leaseMillis: 1_000 });
      const ttl = await client.pttl('{ttl}:c:short');
      expect(ttl).toBeGreaterThan(120_000 + GRACE - 5_000);
      expect(ttl).toBeLessThanOrEqual(120_000 + GRACE);
    } finally {
      await ledger.close();
    }
  });

  it('drops the slice bounds of a rolling counter whose spend all left its window', async () => {
    const ledger = createRedisLedger({ client, keyPrefix: 'slices', keyGraceMillis: GRACE });
    try {
      const line: LedgerLine = {
        key: 'roll',
        limit: 10,
        amount: 10,
        window: { kind: 'rolling', lengthMs: 60_000 },
        thresholds: [],
      };
      await ledger.reserve({ reservationId: 'r1', lines: [line], leaseMillis: 10_000 });
      await ledger.settle('r1', [10]);
      expect(await client.hmget('{slices}:c:roll', 'o', 'n')).not.toContain(null);
      ledger[TIME_SHIFT](62_000);
      expect(await ledger.reserve({ reservationId: 'r2', lines: [line], leaseMillis: 10_000 })).toMatchObject(
        {
          ok: true,
          lines: [{ spent: 0, reserved: 10 }],
        },
      );
      expect(await client.hmget('{slices}:c:roll', 'o', 'n')).toEqual([null, null]);
      await ledger.release('r2');
    } finally {
      await ledger.close();
    }
  });
});
