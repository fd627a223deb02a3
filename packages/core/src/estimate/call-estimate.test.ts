import { describe, expect, it } from 'vitest';
import type { LlmCallDescriptor, OperationName } from '../call/llm-call';
import { InvalidRequestError } from '../errors/invalid-request-error';
import { PriceTable } from '../pricing/price-table';
import { type EstimateSettings, estimateCall } from './call-estimate';

const settings: EstimateSettings = {
  prices: PriceTable.bundled(),
  defaultMaxOutputTokens: undefined,
  unknownModel: 'reject',
  estimator: undefined,
};

function call(
  operation: OperationName,
  body: Record<string, unknown>,
  model = 'gpt-4o-mini',
): LlmCallDescriptor {
  return { provider: operation === 'messages' ? 'anthropic' : 'openai', operation, model, body };
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('estimateCall: the output cap the request carries', () => {
  it("is the request's own cap as its shape reads it, whatever the model's maximum", () => {
    const messages = [{ role: 'user', content: 'Hi' }];
    expect(estimateCall(call('chat', { messages, max_tokens: 50 }), settings).requestOutputCap).toBe(50);
    // Both chat fields set: the larger is what the provider may write, and what is reserved.
    const both = estimateCall(
      call('chat', { messages, max_tokens: 50, max_completion_tokens: 80 }),
      settings,
    );
    expect(both).toMatchObject({ requestOutputCap: 80, maxOutputTokens: 80 });
    const above = estimateCall(call('chat', { messages, max_completion_tokens: 10_000_000 }), settings);
    expect(above).toMatchObject({ requestOutputCap: 10_000_000, maxOutputTokens: 16_384 });
  });

  it('is the cap Tollgate sends when the request sets none', () => {
    const estimate = estimateCall(call('responses', { input: 'Hi' }), {
      ...settings,
      defaultMaxOutputTokens: 700,
    });
    expect(estimate).toMatchObject({ outputBound: 'sent', outputCapToSend: 700, requestOutputCap: 700 });
  });

  it("is unset when the request carries none: the API's default or the model's maximum applies", () => {
    expect(estimateCall(call('chat', { messages: [] }), settings).requestOutputCap).toBeUndefined();
    // A field another API reads says nothing about this one.
    expect(
      estimateCall(call('responses', { input: 'x', max_tokens: 5 }), settings).requestOutputCap,
    ).toBeUndefined();
    const legacy = estimateCall(call('text_completion', { prompt: 'x' }, 'gpt-3.5-turbo-instruct'), settings);
    expect(legacy).toMatchObject({
      requestOutputCap: undefined,
      maxOutputTokens: 16,
      outputBound: 'request',
    });
    const embeddings = estimateCall(call('embeddings', { input: 'x' }, 'text-embedding-3-small'), settings);
    expect(embeddings).toMatchObject({
      requestOutputCap: undefined,
      maxOutputTokens: 0,
      outputBound: 'request',
    });
  });
});

describe('estimateCall: malformed per-call input', () => {
  it.each([
    ['chat', { messages: [], max_tokens: 'abc' }, 'max_tokens'],
    ['chat', { messages: [], max_completion_tokens: -1 }, 'max_completion_tokens'],
    ['chat', { messages: [], n: -1 }, 'n'],
    ['chat', { messages: 'Hello' }, 'messages'],
    ['responses', { input: 'x', max_output_tokens: 1.5 }, 'max_output_tokens'],
    ['text_completion', { prompt: 'x', best_of: 0 }, 'best_of'],
    ['messages', { messages: { role: 'user' }, max_tokens: 10 }, 'messages'],
    ['messages', { messages: [], max_tokens: '1024' }, 'max_tokens'],
  ] as const)('refuses %s %j with an InvalidRequestError naming %s', (operation, body, field) => {
    const error = thrownBy(() => estimateCall(call(operation, body), settings));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).not.toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ field });
  });

  it('still estimates an operation it has no shape for from the JSON of its body', () => {
    const unknown = {
      ...call('chat', { contents: 'Hello' }),
      operation: 'converse_later',
    } as unknown as LlmCallDescriptor;
    const estimate = estimateCall(unknown, settings);
    expect(estimate).toMatchObject({ choices: 1, requestOutputCap: undefined, outputBound: 'model-max' });
    expect(estimate.estimatedInputTokens).toBeGreaterThan(0);
  });
});
