import {
  BudgetExceededError,
  createGuard,
  type DecisionEvent,
  type Guard,
  LoopDetectedError,
  withScope,
} from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

let mock: MockProvider;
let sdk: InstrumentedSdk | undefined;
let guard: Guard | undefined;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});
afterEach(async () => {
  if (sdk) await uninstrumentSdk(sdk, guard);
  sdk = undefined;
  guard = undefined;
});

const question = {
  model: 'gpt-4o-mini',
  max_tokens: 40,
  messages: [{ role: 'user' as const, content: 'Is the deploy finished yet?' }],
};

function gated(config: Parameters<typeof createGuard>[0]): { events: DecisionEvent[] } {
  const events: DecisionEvent[] = [];
  guard = createGuard({ ...config, onDecision: (event) => void events.push(event) });
  sdk = instrumentSdk(guard);
  mock.reset();
  mock.configure({ outputTokens: 8, chunkDelayMillis: 0, latencyMillis: 0 });
  return { events };
}

describe('OpenAIInstrumentation — runaway loops', () => {
  it('stops a tenant repeating one request at the configured count, before sending, while another tenant proceeds', async () => {
    const { events } = gated({
      loops: [{ id: 'repeat-storm', maxIdentical: 3, windowMillis: 60_000, per: ['tenant'] }],
    });
    const client = mockClient(mock);

    const looping = await withScope({ tenant: 'acme' }, async () => {
      for (let i = 0; i < 3; i++) await client.chat.completions.create(question);
      const stream = await client.chat.completions.create({ ...question, stream: true }).catch((e) => e);
      const plain = await client.chat.completions.create(question).catch((error: unknown) => error);
      return [stream, plain];
    });
    expect(looping.every((error) => LoopDetectedError.isInstance(error))).toBe(true);
    expect(looping[1]).toMatchObject({ ruleId: 'repeat-storm', scope: { tenant: 'acme' }, count: 3 });
    expect(mock.requests()).toHaveLength(3);

    const other = await withScope({ tenant: 'globex' }, () => client.chat.completions.create(question));
    expect(other.choices[0]?.message.content).toBeTruthy();
    expect(mock.requests()).toHaveLength(4);
    expect(events.filter((event) => event.type === 'loop-detected')).toHaveLength(2);

    const refused = sdk!.harness.spans
      .getFinishedSpans()
      .filter((span) => span.attributes['tollgate.gate.decision'] === 'loop_detected');
    expect(refused).toHaveLength(2);
    expect(refused[0]!.attributes).toMatchObject({
      'tollgate.gate.reason': 'repeat-storm',
      'tollgate.policy.rule': 'repeat-storm',
      'tollgate.tenant': 'acme',
      'error.type': 'LoopDetectedError',
    });
    const decisions = await sdk!.harness.metricPoints('tollgate.gate.decisions');
    expect(
      decisions.find(
        (point) =>
          point.attributes['tollgate.gate.decision'] === 'loop_detected' &&
          point.attributes['tollgate.policy.rule'] === 'repeat-storm' &&
          point.attributes['tollgate.tenant'] === 'acme',
      )?.value,
    ).toBe(2);
  });

  it('stops a tenant over its per-minute spend rate (a rolling budget per tenant) while another proceeds', async () => {
    gated({
      budgets: [
        { id: 'spend-rate', limit: { tokens: 100 }, window: { rollingMillis: 60_000 }, per: ['tenant'] },
      ],
    });
    const client = mockClient(mock);
    const ask = (n: number) => ({
      ...question,
      max_tokens: 40,
      messages: [{ role: 'user' as const, content: `Step ${n}` }],
    });

    const outcome = await withScope({ tenant: 'acme' }, async () => {
      const sent: unknown[] = [];
      for (let i = 0; i < 10; i++) sent.push(await client.chat.completions.create(ask(i)).catch((e) => e));
      return sent;
    });
    const refusedAt = outcome.findIndex((result) => BudgetExceededError.isInstance(result));
    expect(refusedAt).toBeGreaterThan(0);
    expect(outcome[refusedAt]).toMatchObject({ budgetId: 'spend-rate', scope: { tenant: 'acme' } });
    expect(mock.requests()).toHaveLength(refusedAt);

    await withScope({ tenant: 'globex' }, () => client.chat.completions.create(ask(0)));
    expect(mock.requests()).toHaveLength(refusedAt + 1);
  });
});
