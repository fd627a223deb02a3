import type * as anthropicModule from '@anthropic-ai/sdk';
import { createGuard, type Guard, withScope } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type InstrumentedSdk, instrumentSdk, mockClient, uninstrumentSdk } from './test-support';

let mock: MockProvider;
let sdk: InstrumentedSdk;
let guard: Guard;
let client: InstanceType<typeof anthropicModule.Anthropic>;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});

beforeEach(() => {
  sdk = instrumentSdk();
  guard = createGuard({ cache: { rules: [{ match: { provider: 'anthropic', model: 'claude-*' } }] } });
  sdk.instrumentation.setConfig({ guard });
  mock.reset();
  mock.configure({ outputTokens: 12, chunkDelayMillis: 0, latencyMillis: 0 });
  client = mockClient(mock);
});

afterEach(async () => {
  await uninstrumentSdk(sdk, guard);
});

const params = {
  model: 'claude-3-5-haiku-20241022',
  max_tokens: 64,
  messages: [{ role: 'user' as const, content: 'What are your opening hours?' }],
};

async function settled() {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('response cache with the Anthropic SDK', () => {
  it('answers a repeated Messages call from the cache with the same message and headers', async () => {
    const first = await client.messages.create(params).withResponse();
    await settled();
    const second = await client.messages.create(params).withResponse();
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(second.data).toEqual(first.data);
    expect(second.request_id).toBe(first.request_id);
    const spans = sdk.harness.spans
      .getFinishedSpans()
      .filter((span) => 'tollgate.cache.hit' in span.attributes);
    expect(spans.map((span) => span.attributes['tollgate.cache.hit'])).toEqual([false, true]);
    expect(spans[1]?.attributes['tollgate.cost.saved_usd']).toBe(
      spans[0]?.attributes['tollgate.cost.reconciled_usd'],
    );
  });

  it('replays a stream event for event, through create() and the stream helper', async () => {
    const events = async () => {
      const seen: unknown[] = [];
      for await (const event of await client.messages.create({ ...params, stream: true })) seen.push(event);
      return seen;
    };
    const first = await events();
    await settled();
    const second = await events();
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(first.length).toBeGreaterThan(2);
    expect(second).toEqual(first);

    // The helper sends the same request (`stream: true`): the cache answers it too.
    const final = await client.messages.stream(params).finalMessage();
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(final.id).toBe((first[0] as { message: { id: string } }).message.id);
    expect(final.content.length).toBeGreaterThan(0);
  });

  it('leaves models no rule matches to the provider', async () => {
    await client.messages.create({ ...params, model: 'other-model' }).catch(() => undefined);
    await withScope({ feature: 'x' }, () => client.messages.create(params));
    await settled();
    await client.messages.create({ ...params, model: 'other-model' }).catch(() => undefined);
    expect(mock.requests().length).toBe(3);
  });
});
