import { afterEach, describe, expect, it } from 'vitest';
import type { LlmCallDescriptor, OperationName } from '../call/llm-call';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { TollgateConfigError } from '../errors/config-error';
import { UnboundedOutputError } from '../errors/unbounded-output-error';
import { createGuard } from './guard';
import { closeGuards, guardWith } from './test-support';

afterEach(closeGuards);

function call(
  model: string,
  body: Record<string, unknown> = {},
  operation: OperationName = 'chat',
): LlmCallDescriptor {
  const provider = operation === 'messages' ? 'anthropic' : 'openai';
  const content =
    operation === 'responses' ? { input: 'Hello' } : { messages: [{ role: 'user', content: 'Hello' }] };
  return { provider, operation, model, body: { model, ...content, ...body } };
}

const tokenBudget = { budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' as const }] };

describe('the output reservation of a call that sets no cap', () => {
  it("is the model's maximum output from the price table, and nothing is sent", async () => {
    const { guard } = guardWith(tokenBudget);
    const admission = await guard.admit(call('gpt-4o-mini'));
    expect(admission.estimate).toMatchObject({ maxOutputTokens: 16_384, outputBound: 'model-max' });
    expect(admission.outputCapToSend).toBeUndefined();
    const responses = await guard.admit(call('gpt-5', {}, 'responses'));
    expect(responses.estimate).toMatchObject({ maxOutputTokens: 128_000, outputBound: 'model-max' });
  });

  it('is defaultMaxOutputTokens when configured, which the call must then send', async () => {
    const { guard } = guardWith({ ...tokenBudget, defaultMaxOutputTokens: 2_000 });
    const admission = await guard.admit(call('gpt-4o-mini'));
    expect(admission.estimate).toMatchObject({ maxOutputTokens: 2_000, outputBound: 'sent' });
    expect(admission.outputCapToSend).toBe(2_000);
    // Never above what the model can write: the provider would refuse a larger cap.
    const { guard: generous } = guardWith({ ...tokenBudget, defaultMaxOutputTokens: 50_000 });
    const small = await generous.admit(call('gpt-4-turbo'));
    expect(small.outputCapToSend).toBe(4_096);
  });

  it("is the request's own cap when it sets one, and nothing is sent", async () => {
    const { guard } = guardWith({ ...tokenBudget, defaultMaxOutputTokens: 2_000 });
    const admission = await guard.admit(call('gpt-4o-mini', { max_completion_tokens: 300 }));
    expect(admission.estimate).toMatchObject({ maxOutputTokens: 300, outputBound: 'request' });
    expect(admission.outputCapToSend).toBeUndefined();
  });

  it('is refused under a token or USD budget when the model has no known maximum output', async () => {
    const { guard, events } = guardWith({
      ...tokenBudget,
      prices: { overrides: { 'my-llama': { provider: 'vllm', input: 0.1, output: 0.2 } } },
    });
    const error = await guard.admit(call('my-llama')).catch((caught: unknown) => caught);
    expect(UnboundedOutputError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ model: 'my-llama', budgetIds: ['day'] });
    expect((error as Error).message).toContain('max_completion_tokens');
    expect((error as Error).message).toContain('defaultMaxOutputTokens');
    expect(events.map((event) => event.type)).toEqual(['unbounded-output']);
    // A cap in the request, or one Tollgate sends, bounds it.
    await expect(guard.admit(call('my-llama', { max_tokens: 100 }))).resolves.toBeDefined();
    const { guard: sending } = guardWith({
      ...tokenBudget,
      defaultMaxOutputTokens: 500,
      prices: { overrides: { 'my-llama': { provider: 'vllm', input: 0.1, output: 0.2 } } },
    });
    expect((await sending.admit(call('my-llama'))).outputCapToSend).toBe(500);
  });

  it('uses unknownModel.fallback.maxOutputTokens for an unpriced model, and refuses without it', async () => {
    const usd = { budgets: [{ id: 'usd', limit: { usd: 10 }, window: 'day' as const }] };
    const { guard } = guardWith({ ...usd, unknownModel: { fallback: { input: 1, output: 2 } } });
    await expect(guard.admit(call('mystery-model'))).rejects.toSatisfy(UnboundedOutputError.isInstance);
    const { guard: bounded } = guardWith({
      ...usd,
      unknownModel: { fallback: { input: 1, output: 2, maxOutputTokens: 8_000 } },
    });
    const admission = await bounded.admit(call('mystery-model'));
    expect(admission.estimate).toMatchObject({ maxOutputTokens: 8_000, outputBound: 'model-max' });
  });

  it('is not refused without token or USD budgets (rate limits weigh it nominally)', async () => {
    const { guard } = guardWith({ budgets: [{ id: 'calls', limit: { requests: 10 }, window: 'day' }] });
    const admission = await guard.admit(call('unpriced-model'));
    expect(admission.estimate.outputBound).toBe('none');
  });
});

describe('a refusal for size', () => {
  it('tells the caller how to get a smaller reservation', async () => {
    const { guard } = guardWith({ budgets: [{ id: 'day', limit: { tokens: 10_000 }, window: 'day' }] });
    const error = (await guard.admit(call('gpt-4o-mini')).catch((caught: unknown) => caught)) as Error;
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect(error.message).toContain(
      "sets no max_completion_tokens, so the call reserved the model's maximum output",
    );
    expect(error.message).toContain('defaultMaxOutputTokens');
    const own = (await guard
      .admit(call('gpt-4o-mini', { max_tokens: 12_000 }))
      .catch((caught: unknown) => caught)) as Error;
    expect(own.message).toContain("reserved the request's own output cap (12000 output tokens)");
  });
});

describe('defaultMaxOutputTokens validation', () => {
  it.each([0, 1.5, -3, Number.NaN])('refuses %s naming the field', (value) => {
    expect(() => createGuard({ defaultMaxOutputTokens: value })).toThrow(TollgateConfigError);
    expect(() => createGuard({ defaultMaxOutputTokens: value })).toThrow(/defaultMaxOutputTokens/);
  });
});
