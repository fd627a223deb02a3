import { afterEach, describe, expect, it } from 'vitest';
import { UnknownModelPriceError } from '../errors/unknown-model-price-error';
import { chat, closeGuards, guardWith } from './test-support';

afterEach(closeGuards);

const providers = [
  { name: 'vllm', baseURL: 'http://10.0.0.5:8000/v1', prices: { 'Llama-3.1-8B': { input: 1, output: 2 } } },
  { name: 'litellm', baseURL: 'http://litellm:4000' },
];
const on = (provider: string, model: string) => ({ ...chat(model, 100), provider });

describe('guard: calls of a configured provider', () => {
  it('tells instrumentations the provider a base URL belongs to', () => {
    const { guard } = guardWith({ providers });
    expect(guard.providerAt('http://10.0.0.5:8000/v1/')).toBe('vllm');
    expect(guard.providerAt('https://api.openai.com/v1')).toBeUndefined();
  });

  it("are estimated and charged at the provider's own prices, under the name written there", async () => {
    const { guard } = guardWith({ providers, budgets: [{ id: 'usd', limit: { usd: 1 }, window: 'day' }] });
    const admission = await guard.admit(on('vllm', 'llama-3.1-8b'));
    const { estimatedInputTokens, maxOutputTokens } = admission.estimate;
    expect(admission.estimate.pricedModel).toBe('Llama-3.1-8B');
    expect(admission.estimate.worstCaseUsd).toBeCloseTo(
      (estimatedInputTokens * 1 + maxOutputTokens * 2) / 1e6,
      15,
    );
    await admission.settle({ inputTokens: 1_000, outputTokens: 500 });
    const [status] = await guard.budgetStatus('usd');
    expect(status!.spent).toBeCloseTo((1_000 * 1 + 500 * 2) / 1e6, 15);
  });

  it('refuse a model the provider does not price under a USD budget, even one the price table knows', async () => {
    const { guard } = guardWith({ providers, budgets: [{ id: 'usd', limit: { usd: 1 }, window: 'day' }] });
    await expect(guard.admit(on('vllm', 'gpt-4o-mini'))).rejects.toBeInstanceOf(UnknownModelPriceError);
  });

  it('use the price table for a provider configured without prices, and for every other provider', async () => {
    const { guard } = guardWith({ providers, budgets: [{ id: 'usd', limit: { usd: 1 }, window: 'day' }] });
    const proxied = await guard.admit(on('litellm', 'gpt-4o-mini'));
    const direct = await guard.admit(on('openai', 'gpt-4o-mini'));
    expect(proxied.estimate.pricedModel).toBe('gpt-4o-mini');
    expect(proxied.estimate.price).toBe(direct.estimate.price);
    await proxied.release('test');
    await direct.release('test');
  });
});
