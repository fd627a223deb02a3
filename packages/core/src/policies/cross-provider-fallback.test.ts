import { metrics, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { LlmCallDescriptor } from '../call/llm-call';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { CircuitOpenError } from '../errors/circuit-open-error';
import { chat, closeGuards, guardWith } from '../guard/test-support';
import { CallGate } from '../telemetry/call-gate';
import * as semconv from '../telemetry/semconv';
import { telemetryHarness } from '../testing/telemetry-harness';

afterEach(closeGuards);

const failover = {
  id: 'failover',
  when: { circuitOpen: true },
  action: 'fallback',
  models: { 'gpt-4o-mini': 'anthropic:claude-haiku-4-5' },
} as const;

/** A chat call from a caller that can send it to any provider's model (as the AI SDK can). */
function anyProvider(call: LlmCallDescriptor): LlmCallDescriptor {
  return { ...call, substitutes: 'any-provider' };
}

/** The same request, sent to Anthropic directly: what the substitute should be estimated as. */
function asAnthropic(call: LlmCallDescriptor, model: string): LlmCallDescriptor {
  return { ...call, provider: 'anthropic', model, body: { ...call.body, model } };
}

const longPrompt = 'Compare the two quarterly reports and list every figure that changed. '.repeat(40);

describe('fallback to another provider', () => {
  it('sends an open circuit to the other provider, estimated and reserved at its price and tokenizer', async () => {
    const { guard, events } = guardWith({
      budgets: [{ id: 'daily', limit: { usd: 100 }, window: 'day' }],
      policies: [failover],
      // Counted by each model's own tokenizer from the first call, not by the byte bound.
      estimator: { waitForTokenizer: true },
    });
    guard.circuits.open('openai', 'gpt-4o-mini');
    const call = anyProvider(chat('gpt-4o-mini', 300, longPrompt));
    const admission = await guard.admit(call);
    expect(admission).toMatchObject({
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      requestedProvider: 'openai',
      requestedModel: 'gpt-4o-mini',
    });
    expect(admission.estimate.pricedModel).toBe('claude-haiku-4-5');

    // The same body sent to Anthropic directly is estimated and reserved exactly alike.
    const direct = await guard.admit(asAnthropic(call, 'claude-haiku-4-5'));
    expect(admission.estimate.estimatedInputTokens).toBe(direct.estimate.estimatedInputTokens);
    expect(admission.estimate.estimateMethod).toBe(direct.estimate.estimateMethod);
    expect(admission.budgets[0]!.reserved).toBe(direct.budgets[0]!.reserved);
    // …and not as the OpenAI model would have been.
    guard.circuits.close('openai', 'gpt-4o-mini');
    const own = await guard.admit(chat('gpt-4o-mini', 300, longPrompt));
    expect(own.estimate.estimateMethod).not.toBe(admission.estimate.estimateMethod);
    expect(own.estimate.worstCaseUsd!).toBeLessThan(admission.estimate.worstCaseUsd!);

    expect(events.find((event) => event.type === 'model-fallback')).toMatchObject({
      ruleId: 'failover',
      trigger: 'circuit-open',
      fromProvider: 'openai',
      fromModel: 'gpt-4o-mini',
      toProvider: 'anthropic',
      toModel: 'claude-haiku-4-5',
      provider: 'anthropic',
      pricedModel: 'claude-haiku-4-5',
    });
  });

  it('never gives another provider’s model to a caller that did not declare it can switch', async () => {
    const { guard, events } = guardWith({ policies: [failover] });
    guard.circuits.open('openai', 'gpt-4o-mini');
    // A provider SDK's call: the rule does not apply, so the open circuit refuses as it would without it.
    const error = await guard.admit(chat('gpt-4o-mini', 50)).catch((caught: unknown) => caught);
    expect(CircuitOpenError.isInstance(error)).toBe(true);
    expect((error as CircuitOpenError).circuitKey).toBe('openai:gpt-4o-mini');
    expect(events.some((event) => event.type === 'model-fallback')).toBe(false);
    const explicit = await guard
      .admit({ ...chat('gpt-4o-mini', 50), substitutes: 'same-provider' })
      .catch((caught: unknown) => caught);
    expect(CircuitOpenError.isInstance(explicit)).toBe(true);
  });

  it('falls to a later rule that stays with the provider when the cross-provider one cannot apply', async () => {
    const { guard } = guardWith({
      policies: [
        failover,
        {
          id: 'same',
          when: { circuitOpen: true },
          action: 'fallback',
          models: { 'gpt-4o-mini': 'gpt-4.1-nano' },
        },
      ],
    });
    guard.circuits.open('openai', 'gpt-4o-mini');
    expect(await guard.admit(chat('gpt-4o-mini', 50))).toMatchObject({
      provider: 'openai',
      model: 'gpt-4.1-nano',
    });
    expect(await guard.admit(anyProvider(chat('gpt-4o-mini', 50)))).toMatchObject({
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
    });
  });

  it('matches a provider-prefixed key only for calls to that provider', async () => {
    const { guard } = guardWith({
      policies: [
        {
          id: 'by-provider',
          when: { circuitOpen: true },
          action: 'fallback',
          models: { 'anthropic:claude-sonnet-4-5': 'claude-haiku-4-5', 'openai:gpt-4o*': 'gpt-4o-mini' },
        },
      ],
    });
    guard.circuits.open('openai', 'gpt-4o');
    expect((await guard.admit(chat('gpt-4o-2024-08-06', 50))).model).toBe('gpt-4o-mini');
    guard.circuits.open('anthropic', 'claude-sonnet-4-5');
    const claude = asAnthropic(chat('claude-sonnet-4-5', 50), 'claude-sonnet-4-5');
    expect(await guard.admit(claude)).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5' });
    // An unprefixed target stays with the calling provider.
    guard.circuits.open('anthropic', 'gpt-4o');
    const odd = asAnthropic(chat('gpt-4o', 50), 'gpt-4o');
    await expect(guard.admit(odd)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('records the outcome on the substitute provider’s circuit', async () => {
    const { guard } = guardWith({
      policies: [failover],
      circuitBreakers: [{ provider: 'anthropic', minCalls: 1, errorRateAbove: 0.5, openMillis: 60_000 }],
    });
    guard.circuits.open('openai', 'gpt-4o-mini');
    const admission = await guard.admit(anyProvider(chat('gpt-4o-mini', 50)));
    await admission.release('provider error', 'server_error');
    expect(guard.circuits.states()).toContainEqual(
      expect.objectContaining({ provider: 'anthropic', model: 'claude-haiku-4-5', state: 'open' }),
    );
    // Both circuits open: refused with the substitute's circuit.
    const error = await guard.admit(anyProvider(chat('gpt-4o-mini', 50))).catch((caught: unknown) => caught);
    expect((error as CircuitOpenError).circuitKey).toBe('anthropic:claude-haiku-4-5');
  });

  it('fires on a budget trigger too, and takes the substitute provider’s rate limit', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'openai', limit: { requests: 10 }, window: 'day', match: { provider: 'openai' } }],
      rateLimits: [{ provider: 'anthropic', rpm: 1, maxWaitMillis: 0 }],
      policies: [{ ...failover, when: { budget: 'openai', usedAbove: 0.05 } }],
    });
    expect((await guard.admit(anyProvider(chat('gpt-4o-mini', 50)))).provider).toBe('openai'); // 1 of 10
    const moved = await guard.admit(anyProvider(chat('gpt-4o-mini', 50)));
    expect(moved).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5' });
    expect(moved.budgetIds).toEqual([]);
    expect(moved.limiterKeys.some((key) => key.includes('anthropic'))).toBe(true);
    await expect(guard.admit(anyProvider(chat('gpt-4o-mini', 50)))).rejects.toMatchObject({
      name: 'RateLimitedError',
    });
  });

  it('never overshoots a budget when many calls fail over at once', async () => {
    const { guard } = guardWith({
      budgets: [{ id: 'daily', limit: { usd: 0.05 }, window: 'day' }],
      policies: [failover],
    });
    guard.circuits.open('openai', 'gpt-4o-mini');
    const call = anyProvider(chat('gpt-4o-mini', 1000));
    const perCall = (await guard.admit(asAnthropic(call, 'claude-haiku-4-5'))).estimate.worstCaseUsd!;
    const [firstAdmitted] = await guard.budgetStatus('daily');
    const room = Math.floor((0.05 - firstAdmitted!.reserved) / perCall + 1e-9);
    expect(room).toBeGreaterThan(3);

    const results = await Promise.allSettled(Array.from({ length: 40 }, () => guard.admit(call)));
    const admitted = results.filter((result) => result.status === 'fulfilled');
    expect(admitted).toHaveLength(room);
    for (const result of admitted) expect(result.value.provider).toBe('anthropic');
    for (const result of results)
      if (result.status === 'rejected') expect(BudgetExceededError.isInstance(result.reason)).toBe(true);
    const [status] = await guard.budgetStatus('daily');
    expect(status!.reserved).toBeLessThanOrEqual(0.05);
  });
});

describe('span of a call sent to another provider', () => {
  it('names the provider and model used, and the ones asked for', async () => {
    const harness = telemetryHarness();
    try {
      const { guard } = guardWith({ policies: [failover] });
      guard.circuits.open('openai', 'gpt-4o-mini');
      const gate = new CallGate(guard, trace.getTracer('test'), metrics.getMeter('test'));
      const call = await gate.begin({ descriptor: anyProvider(chat('gpt-4o-mini', 50)), streaming: false });
      call.complete({ inputTokens: 20, outputTokens: 10 }, 'provider');
      await new Promise((resolve) => setTimeout(resolve, 10));
      const [span] = harness.spans.getFinishedSpans();
      expect(span?.name).toBe('chat claude-haiku-4-5');
      expect(span?.attributes).toMatchObject({
        [semconv.ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
        [semconv.ATTR_GEN_AI_REQUEST_MODEL]: 'claude-haiku-4-5',
        [semconv.ATTR_TOLLGATE_FALLBACK_FROM_PROVIDER]: 'openai',
        [semconv.ATTR_TOLLGATE_FALLBACK_FROM_MODEL]: 'gpt-4o-mini',
      });
    } finally {
      await harness.shutdown();
    }
  });
});
