import { createGuard, type Guard, withScope } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { geminiClient, type InstrumentedSdk, instrumentSdk, uninstrumentSdk } from './test-support';

let mock: MockProvider;
let sdk: InstrumentedSdk;
let guard: Guard;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});

beforeEach(() => {
  sdk = instrumentSdk();
  guard = createGuard({ cache: { rules: [{ match: { feature: 'faq' } }] } });
  sdk.instrumentation.setConfig({ guard });
  mock.reset();
  mock.configure({ outputTokens: 8, reasoningTokens: 0, chunkDelayMillis: 0, latencyMillis: 0 });
});

afterEach(async () => {
  await uninstrumentSdk(sdk, guard);
});

const request = {
  model: 'gemini-2.5-flash',
  contents: 'What are your opening hours?',
  config: { maxOutputTokens: 50 },
};

async function settled(): Promise<void> {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 10));
}

const faq = <T>(fn: () => Promise<T>) => withScope({ feature: 'faq' }, fn);

describe('response cache with @google/genai', () => {
  it('answers a repeated generateContent call from the cache with the same response', async () => {
    const ai = geminiClient(mock);
    const first = await faq(() => ai.models.generateContent(request));
    await settled();
    const second = await faq(() => ai.models.generateContent(request));
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(second.text).toBe(first.text);
    expect(second.responseId).toBe(first.responseId);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    const spans = sdk.harness.spans
      .getFinishedSpans()
      .filter((span) => 'tollgate.cache.hit' in span.attributes);
    expect(spans.map((span) => span.attributes['tollgate.cache.hit'])).toEqual([false, true]);
    expect(spans[1]?.attributes['tollgate.attempts']).toBeUndefined();
    expect(spans[1]?.attributes['tollgate.cost.saved_usd']).toBe(
      spans[0]?.attributes['tollgate.cost.reconciled_usd'],
    );
  });

  it('replays a generateContentStream call chunk for chunk', async () => {
    const ai = geminiClient(mock);
    const read = async () => {
      const chunks: string[] = [];
      for await (const chunk of await faq(() => ai.models.generateContentStream(request)))
        chunks.push(JSON.stringify(chunk));
      return chunks;
    };
    const first = await read();
    await settled();
    const second = await read();
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(first.length).toBeGreaterThan(1);
    expect(second).toEqual(first);
  });

  it('answers embedContent from the cache, keyed by all its parameters', async () => {
    const ai = geminiClient(mock);
    const embed = { model: 'gemini-embedding-001', contents: 'opening hours' };
    const first = await faq(() => ai.models.embedContent(embed));
    await settled();
    const second = await faq(() => ai.models.embedContent(embed));
    await settled();
    expect(mock.requests()).toHaveLength(1);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    await faq(() => ai.models.embedContent({ ...embed, config: { outputDimensionality: 8 } }));
    await settled();
    expect(mock.requests()).toHaveLength(2);
  });
});
