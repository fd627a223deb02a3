import { type BudgetConfig, createGuard } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedisLedger } from '../src/ledger/redis-ledger';
import {
  type CallResult,
  killWorkers,
  Worker,
  type WorkerConfig,
  type WorkerConnection,
} from './gate-worker';
import { skipWithoutRedis } from './redis-server';
import {
  type SentinelTopology,
  startRedisCluster,
  startSentinelTopology,
  type TestRedisCluster,
} from './redis-topologies';

// Failover on real topologies: worker processes load the BUILT packages, gate the real openai
// SDK through a guard whose store is the app's own ioredis Sentinel or Cluster client, and
// call a mock provider started here. Redis nodes are killed (SIGKILL) or frozen (SIGSTOP, as
// a VM pause or a network partition does) under them.

const skip = skipWithoutRedis();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const STORE_UNAVAILABLE = 'TOLLGATE_GUARD_STORE_UNAVAILABLE';
const BUDGET_EXCEEDED = 'TOLLGATE_BUDGET_EXCEEDED';

let prefixes = 0;

/** A budget counted in requests (overshoot is a plain count) and tokens (settled vs worst case). */
function fleetBudget(requests: number): BudgetConfig {
  return { id: 'fleet', limit: { requests, tokens: 10_000_000 }, window: { rollingMillis: 3_600_000 } };
}

/** Reads the budget through a fresh guard and ledger on the app's client, as any process would. */
async function budgetStatus(client: Redis | Cluster, keyPrefix: string, budget: BudgetConfig) {
  const guard = createGuard({ budgets: [budget], ledger: createRedisLedger({ client, keyPrefix }) });
  try {
    const states = await guard.budgetStatus(budget.id);
    const byUnit = (unit: string) => states.find((state) => state.unit === unit)!;
    return { requests: byUnit('requests'), tokens: byUnit('tokens') };
  } finally {
    await guard.close();
  }
}

/** Fires one call per worker, again and again, until one passes; returns every outcome seen. */
async function fireUntilAdmitted(fleet: Worker[], timeoutMillis: number): Promise<CallResult[]> {
  const seen: CallResult[] = [];
  const deadline = Date.now() + timeoutMillis;
  while (Date.now() < deadline) {
    const results = (await Promise.all(fleet.map((worker) => worker.fire(1, 1)))).flat();
    seen.push(...results);
    if (results.some((result) => result.outcome === 'ok')) return seen;
    await sleep(100);
  }
  return seen;
}

/**
 * Starts `count` workers and waits until each has passed one call: a process starting up
 * refuses calls (typed) until its connections are up, which is not what these tests are about.
 */
async function startFleet(
  count: number,
  connection: WorkerConnection,
  mock: MockProvider,
  config: WorkerConfig,
) {
  const fleet = await Promise.all(
    Array.from({ length: count }, () => Worker.start(connection, mock, config)),
  );
  for (const worker of fleet) {
    const warmUp = await fireUntilAdmitted([worker], 10_000);
    expect(warmUp.at(-1)?.outcome).toBe('ok');
  }
  return fleet;
}

describe.skipIf(skip)('distributed mode through failover', () => {
  let mock: MockProvider;

  beforeAll(async () => {
    mock = await startMockProvider();
  });

  afterAll(async () => {
    await mock?.close();
  });

  beforeEach(() => {
    mock.reset();
    mock.configure({ latencyMillis: 0, outputTokens: 16 });
  });

  afterEach(killWorkers);

  describe('Redis Cluster with a password', () => {
    let cluster: TestRedisCluster;
    let app: Cluster;

    beforeAll(async () => {
      cluster = await startRedisCluster('s3cret-pass');
      app = new Cluster(cluster.nodes, { redisOptions: { password: cluster.password } });
      app.on('error', () => {});
    }, 30_000);

    afterAll(async () => {
      app?.disconnect();
      await cluster?.dispose();
    });

    it('admits rate-limited and budgeted calls of several processes and counts them all', async () => {
      const keyPrefix = `cluster-${++prefixes}`;
      const budget = fleetBudget(1_000);
      const connection = { cluster: { nodes: cluster.nodes, password: cluster.password } };
      const config = {
        keyPrefix,
        budgets: [budget],
        rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 6_000, maxWaitMillis: 3_000 }],
        store: { commandTimeoutMillis: 1_000 },
      };
      const fleet = await startFleet(2, connection, mock, config);
      const results = (await Promise.all(fleet.map((worker) => worker.fire(10, 5)))).flat();
      expect(results.map((result) => result.outcome)).toEqual(Array(20).fill('ok'));
      expect(mock.requests()).toHaveLength(22); // and one warm-up call each
      const status = await budgetStatus(app, keyPrefix, budget);
      expect(status.requests).toMatchObject({ spent: mock.requests().length, reserved: 0 });
      const billed = mock.billed();
      expect(status.tokens.spent).toBe(billed.inputTokens + billed.outputTokens);
      // The limiter's buckets live in the cluster too (under their own hash tags).
      const limiterKeys = (
        await Promise.all(app.nodes('master').map((node) => node.keys(`b_${keyPrefix}:limiter:*`)))
      ).flat();
      expect(limiterKeys.length).toBeGreaterThan(0);
      await Promise.all(fleet.map((worker) => worker.close()));
    }, 30_000);
  });

  describe('Sentinel', () => {
    let topology: SentinelTopology | undefined;
    let app: Redis | undefined;

    afterEach(async () => {
      app?.disconnect();
      app = undefined;
      await topology?.dispose();
      topology = undefined;
    });

    async function startTopology() {
      topology = await startSentinelTopology({ downAfterMillis: 400, failoverTimeoutMillis: 2_000 });
      app = new Redis({ sentinels: topology.sentinels, name: topology.masterName, failoverDetector: true });
      app.on('error', () => {});
      const connection = { sentinel: { sentinels: topology.sentinels, name: topology.masterName } };
      return { topology, app, connection };
    }

    it('refuses calls with a typed error while a killed primary is replaced, resumes after the promotion, and loses no settlement', async () => {
      const { topology, app, connection } = await startTopology();
      const keyPrefix = `sentinel-kill-${++prefixes}`;
      const budget = fleetBudget(1_000);
      const config = {
        keyPrefix,
        budgets: [budget],
        rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 6_000, maxWaitMillis: 2_000 }],
        leaseMillis: 60_000,
        store: { commandTimeoutMillis: 500 },
      };
      const fleet = await startFleet(2, connection, mock, config);
      const before = (await Promise.all(fleet.map((worker) => worker.fire(5, 5)))).flat();
      expect(before.map((result) => result.outcome)).toEqual(Array(10).fill('ok'));

      // Calls in flight at the provider when the primary dies: reserved before, settled during the outage.
      mock.configure({ latencyMillis: 800 });
      const served = mock.requests().length;
      const inFlight = Promise.all(fleet.map((worker) => worker.fire(3, 3)));
      while (mock.requests().length < served + 6) await sleep(10);
      await sleep(100); // the reservations reach the replica
      const primaryPort = topology.primary.port;
      topology.primary.signal('SIGKILL');
      const killedAtMs = Date.now();
      mock.configure({ latencyMillis: 0 });

      const promotedAtMs = topology.waitForPromotion(primaryPort).then(() => Date.now());
      const inFlightResults = (await inFlight).flat();
      expect(inFlightResults.map((result) => result.outcome)).toEqual(Array(6).fill('ok'));
      const duringAndAfter = await fireUntilAdmitted(fleet, 15_000);
      const resumedAtMs = Date.now();
      const refused = duringAndAfter.filter((result) => result.outcome !== 'ok');
      expect(refused.length).toBeGreaterThan(0);
      expect(new Set(refused.map((result) => result.outcome))).toEqual(new Set([STORE_UNAVAILABLE]));
      // Each refusal comes within the store's bound (500 ms), not after a hang.
      for (const result of refused) expect(result.millis).toBeLessThan(1_500);
      expect(duringAndAfter.some((result) => result.outcome === 'ok')).toBe(true);
      console.info(
        `[failover] SIGKILL: promotion seen ${(await promotedAtMs) - killedAtMs} ms after the kill; ` +
          `first call admitted again after ${resumedAtMs - killedAtMs} ms; longest refusal ` +
          `${Math.max(...refused.map((result) => result.millis))} ms`,
      );

      // The settles that failed during the outage land on the new primary within seconds,
      // not at the 60 s lease: spend equals what the provider served, nothing stays reserved.
      let status = await budgetStatus(app, keyPrefix, budget);
      const deadline = Date.now() + 5_000;
      while (status.requests.reserved > 0 && Date.now() < deadline) {
        await sleep(100);
        status = await budgetStatus(app, keyPrefix, budget);
      }
      const billed = mock.billed();
      expect(status.requests).toMatchObject({ spent: mock.requests().length, reserved: 0 });
      expect(status.tokens).toMatchObject({ spent: billed.inputTokens + billed.outputTokens, reserved: 0 });
      const events = (await Promise.all(fleet.map((worker) => worker.storeEvents()))).flat();
      expect(
        events.filter((event) => event.type === 'settlement-retried' && event.applied).length,
      ).toBeGreaterThan(0);
      expect(events.filter((event) => event.type === 'settlement-dropped')).toEqual([]);
      await Promise.all(fleet.map((worker) => worker.close()));
    }, 40_000);

    it('does not spend a budget twice when a frozen primary resumes after its replica was promoted', async () => {
      const { topology, app, connection } = await startTopology();
      const keyPrefix = `sentinel-pause-${++prefixes}`;
      const limit = 40;
      const budget = fleetBudget(limit);
      const config = {
        keyPrefix,
        budgets: [budget],
        leaseMillis: 60_000,
        store: { commandTimeoutMillis: 500 },
      };
      const fleet = await startFleet(2, connection, mock, config);
      const before = (await Promise.all(fleet.map((worker) => worker.fire(6, 3)))).flat();
      expect(before.map((result) => result.outcome)).toEqual(Array(12).fill('ok'));
      await sleep(100); // replicated

      // Frozen with no call in flight: every write it acknowledged had reached the replica.
      const old = topology.primary;
      old.signal('SIGSTOP');
      const stoppedAtMs = Date.now();
      const promotion = topology.waitForPromotion(old.port);
      const duringAndAfter = await fireUntilAdmitted(fleet, 15_000);
      const resumedAtMs = Date.now();
      await promotion;
      const refused = duringAndAfter.filter((result) => result.outcome !== 'ok');
      expect(refused.length).toBeGreaterThan(0);
      expect(new Set(refused.map((result) => result.outcome))).toEqual(new Set([STORE_UNAVAILABLE]));
      // Each refusal comes within the store's bound (500 ms), not after a hang.
      for (const result of refused) expect(result.millis).toBeLessThan(1_500);
      expect(duringAndAfter.some((result) => result.outcome === 'ok')).toBe(true);

      // The old primary comes back still believing it is the primary, until Sentinel demotes
      // it. Calls keep coming the whole time; none may be counted there.
      old.signal('SIGCONT');
      const resumedOldAtMs = Date.now();
      let demoted = false;
      const demotion = topology.waitForRole(old, 'slave').then(() => {
        demoted = true;
      });
      const whileStale: CallResult[] = [];
      while (!demoted) {
        whileStale.push(...(await Promise.all(fleet.map((worker) => worker.fire(4, 2)))).flat());
        await sleep(50);
      }
      await demotion;
      const demotedAfterMillis = Date.now() - resumedOldAtMs;
      await sleep(500);
      const after = (await Promise.all(fleet.map((worker) => worker.fire(4, 2)))).flat();
      expect(after.map((result) => result.outcome)).toEqual(Array(8).fill(BUDGET_EXCEEDED));

      const served = mock.requests().length;
      console.info(
        `[failover] SIGSTOP: refusals for ${resumedAtMs - stoppedAtMs} ms (longest ` +
          `${Math.max(...refused.map((result) => result.millis))} ms); old primary demoted ` +
          `${demotedAfterMillis} ms after it resumed; ${whileStale.length} calls meanwhile; ` +
          `served ${served} of a ${limit}-request budget`,
      );
      // No overshoot: nothing was in flight when the primary froze, so the bound is zero.
      expect(served).toBeLessThanOrEqual(limit);
      const status = await budgetStatus(app, keyPrefix, budget);
      expect(status.requests).toMatchObject({ spent: served, reserved: 0 });
      await Promise.all(fleet.map((worker) => worker.close()));
    }, 60_000);
  });
});
