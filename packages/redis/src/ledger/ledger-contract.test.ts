import type { BudgetLedger } from '@tollgate/core';
// The shared contract lives with the reference implementation, in core's sources (test support, not built).
import { describeLedgerContract } from '@tollgate/core/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { skipWithoutRedis, startRedisServer, type TestRedisServer } from '../../test/redis-server';
import { TIME_SHIFT } from '../internal/time-shift';
import { createRedisLedger } from './redis-ledger';

const skip = skipWithoutRedis();

describe.skipIf(skip)('RedisLedger against a real redis-server', () => {
  let server: TestRedisServer;
  let client: Redis;
  let prefixes = 0;
  const created: BudgetLedger[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url);
  }, 20_000);

  afterEach(async () => {
    await Promise.all(created.splice(0).map((ledger) => ledger.close()));
  });

  afterAll(async () => {
    await client?.quit();
    await server?.dispose();
  });

  describeLedgerContract('RedisLedger', {
    propertyRuns: 12,
    async create({ leaseExpiry }) {
      const keyPrefix = `contract-${++prefixes}`;
      const ledger = createRedisLedger({ client, keyPrefix, leaseExpiry });
      created.push(ledger);
      return {
        ledger,
        advance: (millis) => ledger[TIME_SHIFT](millis),
        openReservations: () => client.zcard(`{${keyPrefix}}:leases`),
      };
    },
  });
});
