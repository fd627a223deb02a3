import * as anthropicModule from '@anthropic-ai/sdk';
import { createGuard, type Guard, InvalidRequestError } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnthropicInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

// Malformed per-call input used to reach the app as a bare TypeError from the estimator
// (max_tokens: "abc") or to be sent as is (messages that is not an array). It is refused
// before the request exists, with the typed error naming the field.

const { Anthropic } = anthropicModule;
let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: AnthropicInstrumentation;
let guard: Guard;
let client: InstanceType<typeof Anthropic>;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  guard = createGuard({ budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' }] });
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
type MessageParams = Parameters<InstanceType<typeof Anthropic>['messages']['create']>[0];

describe.each([false, true])('anthropic messages with malformed input (stream: %s)', (stream) => {
  it.each<[string, Record<string, unknown>]>([
    ['max_tokens', { messages, max_tokens: 'abc' }],
    ['max_tokens', { messages, max_tokens: -1 }],
    ['messages', { messages: { role: 'user', content: 'Hello' }, max_tokens: 100 }],
  ])('refuses %s with an InvalidRequestError before sending', async (field, fields) => {
    const params = {
      model: 'claude-sonnet-4-6',
      ...fields,
      ...(stream ? { stream: true } : {}),
    } as MessageParams;
    const error = await refusal(() => client.messages.create(params));
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(error).not.toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ field, code: 'TOLLGATE_INVALID_REQUEST' });
    expect(mock.requests()).toHaveLength(0);
    const [span] = harness.spans.getFinishedSpans();
    expect(span?.attributes['error.type']).toBe('InvalidRequestError');
    const [status] = await guard.budgetStatus('day');
    expect(status).toMatchObject({ spent: 0, reserved: 0 });
  });

  it('still sends a well-formed request', async () => {
    await client.messages.create({ model: 'claude-sonnet-4-6', messages, max_tokens: 20 });
    expect(mock.requests()).toHaveLength(1);
  });
});
