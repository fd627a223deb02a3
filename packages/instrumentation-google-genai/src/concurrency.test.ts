import { BudgetExceededError, createGuard, type Guard, RateLimitedError } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { geminiClient, type InstrumentedSdk, instrumentSdk, uninstrumentSdk } from './test-support';

let mock: MockProvider;
let sdk: InstrumentedSdk;
let guard: Guard | undefined;

beforeAll(async () => {
  mock = await startMockProvider({ outputTokens: 5, latencyMillis: 20 });
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  sdk = instrumentSdk();
  mock.reset();
});
afterEach(async () => {
  await uninstrumentSdk(sdk, guard);
  guard = undefined;
});

const request = {
  model: 'gemini-2.5-flash',
  contents: 'Say hello to the mock provider',
  config: { maxOutputTokens: 40 },
};

describe('concurrent callers', () => {
  it('never overshoot a token budget: 64 at once, the refused ones send nothing', async () => {
    guard = createGuard({ budgets: [{ id: 'day', limit: { tokens: 1_000 }, window: 'day' }] });
    sdk.instrumentation.setConfig({ guard });
    const ai = geminiClient(mock);
    const outcomes = await Promise.all(
      Array.from({ length: 64 }, (_, index) =>
        (index % 2 ? geminiClient(mock, 'cjs') : ai).models.generateContent(request).then(
          () => 'allowed',
          (error: unknown) => (BudgetExceededError.isInstance(error) ? 'refused' : String(error)),
        ),
      ),
    );
    await mock.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 20));

    const allowed = outcomes.filter((outcome) => outcome === 'allowed').length;
    expect(allowed + outcomes.filter((outcome) => outcome === 'refused').length).toBe(64);
    expect(allowed).toBeGreaterThan(0);
    expect(allowed).toBeLessThan(64);
    expect(mock.requests()).toHaveLength(allowed);
    const status = (await guard.budgetStatus('day'))[0]!;
    const billed = mock.billed();
    expect(status).toMatchObject({ reserved: 0, spent: billed.inputTokens + billed.outputTokens });
    expect(status.spent).toBeLessThanOrEqual(1_000);
  });

  it('rejects with RateLimitedError, before sending, what a requests-per-minute limit cannot admit in time', async () => {
    guard = createGuard({
      rateLimits: [{ provider: 'gcp.gemini', rpm: 60, burstRequests: 2, maxWaitMillis: 50 }],
    });
    sdk.instrumentation.setConfig({ guard });
    const ai = geminiClient(mock);
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () =>
        ai.models.generateContent(request).then(
          () => 'allowed',
          (error: unknown) => (RateLimitedError.isInstance(error) ? 'rate_limited' : String(error)),
        ),
      ),
    );
    await mock.whenIdle();
    expect(outcomes.filter((outcome) => outcome === 'allowed')).toHaveLength(2);
    expect(outcomes.filter((outcome) => outcome === 'rate_limited')).toHaveLength(2);
    expect(mock.requests()).toHaveLength(2);
  });
});
