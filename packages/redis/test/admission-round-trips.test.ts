import { createHash } from 'node:crypto';
import { createGuard, type LlmCallDescriptor } from '@tollgate/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisGuardStore } from '../src/connection/create-redis-guard-store';
import { LEDGER_SCRIPTS } from '../src/internal/ledger-scripts';
import { skipWithoutRedis, startRedisServer, type TestRedisServer } from './redis-server';

// What one admission sends to Redis, read from MONITOR on a private redis-server: the budget
// ledger answers an admission in one script, the reservation; the settlement is the second.

const skip = skipWithoutRedis();

const chat = (model: string): LlmCallDescriptor => ({
  provider: 'openai',
  operation: 'chat',
  model,
  body: { model, max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] },
});

const scriptNames = new Map(Object.values(LEDGER_SCRIPTS).map((script) => [script.sha, script.name]));

describe.skipIf(skip)('Redis traffic of one admission', () => {
  let server: TestRedisServer;
  let monitor: Redis;
  let marker: Redis;
  /** Scripts run, in the order Redis received them: the ledger's by name, bottleneck's as `limiter`. */
  const scripts: string[] = [];
  let markersSeen = 0;

  beforeAll(async () => {
    server = await startRedisServer();
    monitor = await new Redis(server.url).monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const command = args[0]?.toLowerCase();
      if (source === 'lua') return;
      if (command === 'echo' && args[1] === 'round-trips-marker') markersSeen++;
      if (command === 'evalsha' || command === 'eval') {
        // EVAL carries the source (after a NOSCRIPT); its SHA1 names it the same way.
        const sha = command === 'evalsha' ? args[1]! : createHash('sha1').update(args[1]!).digest('hex');
        scripts.push(scriptNames.get(sha) ?? 'limiter');
      }
    });
    marker = new Redis(server.url);
  }, 20_000);

  afterAll(async () => {
    monitor?.disconnect();
    await marker?.quit();
    await server?.dispose();
  });

  /**
   * The ledger scripts seen since the last call, but for `collect`: the guard's lease-expiry
   * timer sends it every second, whatever the calls do.
   */
  function ledgerScripts(): string[] {
    return scripts.splice(0).filter((name) => name !== 'limiter' && name !== 'collect');
  }

  /** Waits until MONITOR has shown everything sent so far (a marker sent after it comes back). */
  async function drained(): Promise<void> {
    const target = markersSeen + 1;
    await marker.echo('round-trips-marker');
    await expect.poll(() => markersSeen, { timeout: 5_000 }).toBe(target);
  }

  it('reserves in one script, reads nothing first, and settles in one more', async () => {
    const guard = createGuard({
      budgets: [
        { id: 'daily', limit: { usd: 100 }, window: 'day' },
        { id: 'tenant', per: ['tenant'], limit: { tokens: 1_000_000 }, window: 'month' },
      ],
      rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 100_000, tpm: 100_000_000 }],
      policies: [
        {
          id: 'cheaper',
          when: { budget: 'daily', usedAbove: 0.9 },
          action: 'fallback',
          models: { 'gpt-4o': 'gpt-4o-mini' },
        },
      ],
      ...createRedisGuardStore({ url: server.url, keyPrefix: 'round-trips' }),
    });
    try {
      // Connected, scripts loaded and a rate-limit lease taken before counting.
      await (await guard.admit(chat('gpt-4o-mini'))).settle({ inputTokens: 5, outputTokens: 5 });
      await drained();
      scripts.length = 0;

      const admissions = 20;
      for (let i = 0; i < admissions; i++) {
        const model = i % 2 === 0 ? 'gpt-4o-mini' : 'gpt-4o';
        const admission = await guard.admit(chat(model));
        await drained();
        // bottleneck's lease jobs take rate-limit permits for many calls at a time; they are
        // the rate limiter's traffic, not the admission's budget step.
        expect(ledgerScripts()).toEqual(['reserve']);
        await admission.settle({ inputTokens: 5, outputTokens: 5 });
        await drained();
        expect(ledgerScripts()).toEqual(['finish']);
      }
    } finally {
      await guard.close();
    }
  });

  it('refuses an over-budget call with that one script', async () => {
    const guard = createGuard({
      budgets: [{ id: 'tiny', limit: { usd: 0.000_001 }, window: 'day' }],
      rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 100_000 }],
      ...createRedisGuardStore({ url: server.url, keyPrefix: 'round-trips-refused' }),
    });
    try {
      await guard.budgetStatus('tiny');
      await drained();
      scripts.length = 0;
      await expect(guard.admit(chat('gpt-4o-mini'))).rejects.toThrow(/budget/i);
      await drained();
      expect(ledgerScripts()).toEqual(['reserve']);
    } finally {
      await guard.close();
    }
  });
});
