import {
  type BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { createGuard, type Guard } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BedrockInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClients, uninstrumentSdk } from './test-support';

const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: BedrockInstrumentation;
let guard: Guard;
let client: BedrockRuntimeClient;
const clients = mockClients(() => mock);

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  clients.destroyAll();
  await mock.close();
});
beforeEach(() => {
  ({ harness, instrumentation } = instrumentSdk());
  guard = createGuard({ cache: { rules: [{ match: { provider: 'aws.bedrock' } }] } });
  instrumentation.setConfig({ guard });
  mock.reset();
  mock.configure({ outputTokens: 12, chunkDelayMillis: 0, latencyMillis: 0 });
  client = clients.create();
});
afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
});

const converseInput = {
  modelId: MODEL,
  messages: [{ role: 'user' as const, content: [{ text: 'What are your opening hours?' }] }],
  inferenceConfig: { maxTokens: 50 },
};

async function settled(): Promise<void> {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('response cache with the AWS SDK (Bedrock Runtime)', () => {
  it('answers a repeated Converse call from the cache with the same output', async () => {
    const first = await client.send(new ConverseCommand(converseInput));
    await settled();
    const second = await client.send(new ConverseCommand(converseInput));
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(second).toEqual(first);
    const spans = harness.spans.getFinishedSpans().filter((span) => 'tollgate.cache.hit' in span.attributes);
    expect(spans.map((span) => span.attributes['tollgate.cache.hit'])).toEqual([false, true]);
    expect(spans[1]?.attributes['tollgate.cost.saved_usd']).toBe(
      spans[0]?.attributes['tollgate.cost.reconciled_usd'],
    );
    expect(spans[1]?.attributes['tollgate.attempts']).toBeUndefined();
  });

  it('answers a repeated InvokeModel call, keyed by the whole command', async () => {
    const invoke = (accept: string) =>
      client.send(
        new InvokeModelCommand({
          modelId: MODEL,
          contentType: 'application/json',
          accept,
          body: JSON.stringify({
            anthropic_version: 'bedrock-2023-05-31',
            max_tokens: 50,
            messages: [{ role: 'user', content: 'What are your opening hours?' }],
          }),
        }),
      );
    const first = await invoke('application/json');
    await settled();
    const second = await invoke('application/json');
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(new TextDecoder().decode(second.body)).toBe(new TextDecoder().decode(first.body));
    expect(second.$metadata.requestId).toBe(first.$metadata.requestId);
    await invoke('*/*');
    await settled();
    expect(mock.requests()).toHaveLength(2);
  });

  it('leaves ConverseStream to the provider', async () => {
    for (let i = 0; i < 2; i++) {
      const output = await client.send(new ConverseStreamCommand(converseInput));
      for await (const _event of output.stream ?? []) {
      }
    }
    await settled();
    expect(mock.requests()).toHaveLength(2);
  });
});
