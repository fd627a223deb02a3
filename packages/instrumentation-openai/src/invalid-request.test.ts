import { createGuard, type DecisionEvent, type Guard, InvalidRequestError } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import * as openaiModule from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAIInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

// Malformed per-call input used to reach the app as a bare TypeError from the estimator
// (max_tokens: "abc", n: -1) or to be sent as is (messages that is not an array). It is
// refused before the request exists, with the typed error naming the field.

const { OpenAI } = openaiModule;
let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: OpenAIInstrumentation;
let guard: Guard;
let client: InstanceType<typeof OpenAI>;
let events: DecisionEvent[];

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  events = [];
  guard = createGuard({
    budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' }],
    onDecision: (event) => {
      events.push(event);
    },
  });
  ({ harness, instrumentation } = instrumentSdk(guard));
  mock.reset();
  client = mockClient(mock);
});
afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
});

async function refusal(send: () => Promise<unknown>): Promise<unknown> {
  try {
    await send();
  } catch (error) {
    return error;
  }
  throw new Error('the call was not refused');
}

const messages = [{ role: 'user' as const, content: 'Hello' }];
type ChatParams = Parameters<InstanceType<typeof OpenAI>['chat']['completions']['create']>[0];

describe.each([false, true])('openai chat with malformed input (stream: %s)', (stream) => {
  it.each<[string, Record<string, unknown>]>([
    ['max_tokens', { messages, max_tokens: 'abc' }],
    ['max_completion_tokens', { messages, max_completion_tokens: -5 }],
    ['n', { messages, n: -1 }],
    ['messages', { messages: 'Hello' }],
  ])('refuses %s with an InvalidRequestError before sending', async (field, fields) => {
    const params = { model: 'gpt-4o-mini', ...fields, ...(stream ? { stream: true } : {}) } as ChatParams;
    const error = await refusal(() => client.chat.completions.create(params));
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error).not.toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ field, code: 'TOLLGATE_INVALID_REQUEST' });
    expect(mock.requests()).toHaveLength(0);
    const [span] = harness.spans.getFinishedSpans();
    expect(span?.attributes['error.type']).toBe('InvalidRequestError');
    expect(span?.attributes).toMatchObject({
      'tollgate.gate.decision': 'invalid_request',
      'tollgate.gate.reason': field,
    });
    expect(events).toEqual([
      expect.objectContaining({ type: 'invalid-request', field, model: 'gpt-4o-mini', provider: 'openai' }),
    ]);
    const [status] = await guard.budgetStatus('day');
    expect(status).toMatchObject({ spent: 0, reserved: 0 });
  });
});

describe('other openai operations with malformed input', () => {
  it('refuses a responses call whose max_output_tokens is not an integer', async () => {
    const error = await refusal(() =>
      client.responses.create({ model: 'gpt-4o-mini', input: 'Hello', max_output_tokens: 1.5 }),
    );
    expect(error).toMatchObject({ name: 'InvalidRequestError', field: 'max_output_tokens' });
    expect(mock.requests()).toHaveLength(0);
  });

  it('refuses a legacy completion whose best_of is 0', async () => {
    const error = await refusal(() =>
      client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Hello', best_of: 0 }),
    );
    expect(error).toMatchObject({ name: 'InvalidRequestError', field: 'best_of' });
    expect(mock.requests()).toHaveLength(0);
  });

  it('still sends a well-formed request', async () => {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 20, n: 2 });
    expect(mock.requests()).toHaveLength(1);
  });
});
