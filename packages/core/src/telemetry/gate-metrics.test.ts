import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import type { LlmCallDescriptor } from '../call/llm-call';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { createGuard, type Guard } from '../guard/guard';
import { withScope } from '../scope/with-scope';
import { telemetryHarness } from '../testing/telemetry-harness';
import { CallGate } from './call-gate';
import { GateMetrics } from './gate-metrics';

const chat: LlmCallDescriptor = {
  provider: 'openai',
  operation: 'chat',
  model: 'gpt-4o-mini',
  body: { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('guard gauges through the metrics SDK', () => {
  let harness: ReturnType<typeof telemetryHarness>;
  let guard: Guard;

  function setup(config: Parameters<typeof createGuard>[0]) {
    harness = telemetryHarness();
    guard = createGuard(config);
    new GateMetrics(harness.meterProvider.getMeter('test'), guard);
  }

  afterEach(async () => {
    await guard?.close();
    await harness?.shutdown();
  });

  it('reports a budget exhausted from its first refusal until its window resets, as one series', async () => {
    setup({
      budgets: [{ id: 'burst', per: ['tenant'], limit: { requests: 2 }, window: { rollingMillis: 1_000 } }],
    });
    await withScope({ tenant: 'acme' }, async () => {
      await guard.run(chat, async () => 'ok');
      expect(await harness.metricPoints('tollgate.budget.exhausted')).toEqual([
        expect.objectContaining({ value: 0 }),
      ]);
      await guard.run(chat, async () => 'ok');
      await expect(guard.admit(chat)).rejects.toThrow(BudgetExceededError);
    });

    const refused = await harness.metricPoints('tollgate.budget.exhausted');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      value: 1,
      attributes: {
        'tollgate.budget.id': 'burst',
        'tollgate.budget.unit': 'requests',
        'tollgate.tenant': 'acme',
      },
    });

    await sleep(1_050);
    const reset = await harness.metricPoints('tollgate.budget.exhausted');
    expect(reset).toHaveLength(1);
    expect(reset[0]!.value).toBe(0);
  });

  it('reports a budget exhausted when a refusal happens before settled spend reaches the limit', async () => {
    // A worst-case reservation of ~$0.0001 does not fit the $0.00015 left: refused at ~75 % spent.
    setup({ budgets: [{ id: 'usd', limit: { usd: 0.0006 }, window: 'day' }] });
    const big = { ...chat, model: 'gpt-4o', body: { ...chat.body, model: 'gpt-4o', max_tokens: 40 } };
    let refusals = 0;
    for (let i = 0; i < 20 && refusals === 0; i++) {
      await guard
        .run(big, async () => 'ok')
        .catch((error: unknown) => {
          if (!BudgetExceededError.isInstance(error)) throw error;
          refusals++;
        });
    }
    expect(refusals).toBe(1);
    const [spent] = await harness.metricPoints('tollgate.budget.spent');
    const [limit] = await harness.metricPoints('tollgate.budget.limit');
    expect(spent!.value as number).toBeLessThan(limit!.value as number);
    const [exhausted] = await harness.metricPoints('tollgate.budget.exhausted');
    expect(exhausted!.value).toBe(1);
  });

  it('keeps one circuit series per model whose value follows the state, with no stale state series', async () => {
    setup({ circuitBreakers: [{ provider: 'openai', model: 'gpt-4o', minCalls: 3, errorRateAbove: 0.5 }] });
    guard.circuits.open('openai', 'gpt-4o');
    const open = await harness.metricPoints('tollgate.circuit.open');
    expect(open).toEqual([
      expect.objectContaining({
        value: 1,
        attributes: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' },
      }),
    ]);
    guard.circuits.close('openai', 'gpt-4o');
    const closed = await harness.metricPoints('tollgate.circuit.open');
    expect(closed).toHaveLength(1);
    expect(closed[0]!.value).toBe(0);
  });
});

describe('operation duration through the metrics SDK', () => {
  it('counts from admission: time queued at the gate is the wait histogram, not the operation', async () => {
    const harness = telemetryHarness();
    const guard = createGuard({
      rateLimits: [
        { provider: 'openai', model: 'gpt-4o-mini', rpm: 120, burstRequests: 1, maxWaitMillis: 5_000 },
      ],
    });
    try {
      const gate = new CallGate(
        guard,
        harness.tracerProvider.getTracer('test'),
        harness.meterProvider.getMeter('test'),
      );
      const request = { descriptor: chat, streaming: false };
      (await gate.begin(request)).complete({ inputTokens: 5, outputTokens: 3 }, 'provider');
      // The bucket is empty: the second call queues ~0.5 s before it is admitted.
      const queued = await gate.begin(request);
      queued.complete({ inputTokens: 5, outputTokens: 3 }, 'provider');
      await sleep(20);
      const [wait] = (await harness.metricPoints('tollgate.gate.wait.duration')) as DataPoint<Histogram>[];
      expect(wait!.value.max).toBeGreaterThan(0.3);
      const [duration] = (await harness.metricPoints(
        'gen_ai.client.operation.duration',
      )) as DataPoint<Histogram>[];
      expect(duration!.value.count).toBe(2);
      expect(duration!.value.max).toBeLessThan(0.1);
    } finally {
      await guard.close();
      await harness.shutdown();
    }
  });
});
