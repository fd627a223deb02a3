import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createGuard, type Guard } from '../guard/guard';
import { telemetryHarness } from '../testing/telemetry-harness';
import { CallGate } from './call-gate';
import type { GatedRequest } from './gated-request';

const request: GatedRequest = {
  descriptor: {
    provider: 'openai',
    operation: 'chat',
    model: 'gpt-4o-mini',
    body: { model: 'gpt-4o-mini', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'Hi' }] },
  },
  streaming: true,
};

describe('a guarded call records what it gathered when it ends', () => {
  let harness: ReturnType<typeof telemetryHarness>;
  let guard: Guard;

  afterEach(async () => {
    await guard?.close();
    await harness?.shutdown();
  });

  function gate(): CallGate {
    harness = telemetryHarness();
    guard = createGuard({ budgets: [{ id: 'day', limit: { usd: 1 }, window: 'day' }] });
    return new CallGate(
      guard,
      harness.tracerProvider.getTracer('test'),
      harness.meterProvider.getMeter('test'),
    );
  }

  it('time to first chunk once, from the first chunk, with attempts and response facts on the span', async () => {
    const callGate = gate();
    const beganAt = performance.now();
    const call = await callGate.begin(request);
    call.recordAttempt(new Headers(), 429);
    call.recordAttempt(new Headers(), 200);
    call.recordResponse({ id: 'chatcmpl-1', model: 'gpt-4o-mini-2024-07-18' });
    call.recordFirstChunk();
    const firstChunkAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    call.recordFirstChunk();
    call.recordResponse({ finishReasons: ['stop'] });
    // Nothing recorded before the call ends.
    expect(await harness.metricPoints('gen_ai.client.operation.time_to_first_chunk')).toHaveLength(0);
    call.complete({ inputTokens: 5, outputTokens: 3 }, 'provider');
    await new Promise((resolve) => setTimeout(resolve, 5));

    const [point] = (await harness.metricPoints(
      'gen_ai.client.operation.time_to_first_chunk',
    )) as DataPoint<Histogram>[];
    expect(point!.value.count).toBe(1);
    // Timed at the first chunk, not at the second (50 ms later) or at the end.
    expect(point!.value.sum! * 1000).toBeLessThanOrEqual(firstChunkAt - beganAt);
    const [span] = harness.spans.getFinishedSpans();
    expect(span!.attributes).toMatchObject({
      'tollgate.attempts': 2,
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.response.finish_reasons': ['stop'],
    });
  });

  it('a call that fails before any attempt leaves attempts and response facts off its span', async () => {
    const call = await gate().begin(request);
    call.fail(new Error('connection refused'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const [span] = harness.spans.getFinishedSpans();
    expect(span!.attributes['tollgate.attempts']).toBeUndefined();
    expect(span!.attributes['gen_ai.response.id']).toBeUndefined();
    expect(await harness.metricPoints('gen_ai.client.operation.time_to_first_chunk')).toHaveLength(0);
  });
});
