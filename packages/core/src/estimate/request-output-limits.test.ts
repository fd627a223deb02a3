import { describe, expect, it } from 'vitest';
import type { LlmCallDescriptor, OperationName } from '../call/llm-call';
import { InvalidRequestError } from '../errors/invalid-request-error';
import { requestedChoiceCount, requestedMaxOutputTokens, withOutputCap } from './request-output-limits';

function call(operation: OperationName, body: Record<string, unknown>): LlmCallDescriptor {
  return { provider: operation === 'messages' ? 'anthropic' : 'openai', operation, model: 'm', body };
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('requestedMaxOutputTokens', () => {
  it('reads the cap each API uses', () => {
    expect(requestedMaxOutputTokens(call('chat', { max_completion_tokens: 300 }))).toBe(300);
    expect(requestedMaxOutputTokens(call('chat', { max_tokens: 200 }))).toBe(200);
    expect(requestedMaxOutputTokens(call('chat', { max_tokens: 200, max_completion_tokens: 500 }))).toBe(500);
    expect(requestedMaxOutputTokens(call('responses', { max_output_tokens: 1000, max_tokens: 5 }))).toBe(
      1000,
    );
    expect(requestedMaxOutputTokens(call('messages', { max_tokens: 1024 }))).toBe(1024);
    expect(requestedMaxOutputTokens(call('text_completion', { max_tokens: 64 }))).toBe(64);
  });

  it('returns undefined when unset, the API default for legacy completions, and 0 for embeddings', () => {
    expect(requestedMaxOutputTokens(call('chat', {}))).toBeUndefined();
    expect(requestedMaxOutputTokens(call('chat', { max_tokens: null }))).toBeUndefined();
    expect(requestedMaxOutputTokens(call('responses', { max_tokens: 99 }))).toBeUndefined();
    expect(requestedMaxOutputTokens(call('text_completion', {}))).toBe(16);
    expect(requestedMaxOutputTokens(call('embeddings', { max_tokens: 10 }))).toBe(0);
  });

  it.each([
    ['chat', 'max_completion_tokens', -1],
    ['chat', 'max_tokens', 1.5],
    ['responses', 'max_output_tokens', '100'],
    ['messages', 'max_tokens', Number.NaN],
    ['text_completion', 'max_tokens', Number.POSITIVE_INFINITY],
    ['messages', 'max_tokens', { value: 1 }],
  ] as const)(
    'rejects %s %s = %s with an InvalidRequestError naming the field',
    (operation, field, value) => {
      const error = thrownBy(() => requestedMaxOutputTokens(call(operation, { [field]: value })));
      expect(InvalidRequestError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ field, code: 'TOLLGATE_INVALID_REQUEST' });
      expect((error as Error).message).toMatch(
        `Invalid request field ${field}: expected a non-negative integer`,
      );
    },
  );

  it('does not throw for a body that is not an object', () => {
    const odd = {
      provider: 'openai',
      operation: 'chat',
      model: 'm',
      body: null,
    } as unknown as LlmCallDescriptor;
    expect(requestedMaxOutputTokens(odd)).toBeUndefined();
  });
});

describe('requestedChoiceCount', () => {
  it('reads n for chat and defaults to 1', () => {
    expect(requestedChoiceCount(call('chat', { n: 4 }))).toBe(4);
    expect(requestedChoiceCount(call('chat', {}))).toBe(1);
    expect(requestedChoiceCount(call('chat', { n: null }))).toBe(1);
  });

  it('counts every completion a legacy request generates: max(n, best_of) per prompt', () => {
    expect(requestedChoiceCount(call('text_completion', { prompt: 'x', n: 2 }))).toBe(2);
    expect(requestedChoiceCount(call('text_completion', { prompt: 'x', n: 2, best_of: 5 }))).toBe(5);
    expect(requestedChoiceCount(call('text_completion', { prompt: ['a', 'b', 'c'], n: 2 }))).toBe(6);
    expect(requestedChoiceCount(call('text_completion', { prompt: [1, 2, 3] }))).toBe(1);
    expect(requestedChoiceCount(call('text_completion', { prompt: [[1], [2]] }))).toBe(2);
  });

  it('is 1 for operations without choices', () => {
    expect(requestedChoiceCount(call('responses', { n: 3 }))).toBe(1);
    expect(requestedChoiceCount(call('messages', { n: 3 }))).toBe(1);
    expect(requestedChoiceCount(call('embeddings', { input: ['a', 'b'] }))).toBe(1);
  });

  it.each([
    ['chat', 'n', 0],
    ['chat', 'n', -2],
    ['chat', 'n', 2.5],
    ['text_completion', 'n', '3'],
    ['text_completion', 'best_of', 0],
  ] as const)(
    'rejects %s %s = %s with an InvalidRequestError naming the field',
    (operation, field, value) => {
      const error = thrownBy(() => requestedChoiceCount(call(operation, { [field]: value })));
      expect(InvalidRequestError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ field });
      expect((error as Error).message).toMatch(
        new RegExp(`^Invalid request field ${field}: expected an integer >= 1`),
      );
    },
  );
});

describe('withOutputCap', () => {
  const openai = (operation: OperationName) => ({ provider: 'openai', operation });

  it('writes the cap into the field each request shape reads', () => {
    expect(withOutputCap(openai('chat'), { model: 'gpt-4o' }, 500)).toEqual({
      model: 'gpt-4o',
      max_completion_tokens: 500,
    });
    expect(withOutputCap({ provider: 'groq', operation: 'chat' }, { model: 'llama' }, 500)).toEqual({
      model: 'llama',
      max_tokens: 500,
    });
    expect(withOutputCap(openai('responses'), { model: 'gpt-5' }, 500)).toEqual({
      model: 'gpt-5',
      max_output_tokens: 500,
    });
    expect(withOutputCap({ provider: 'anthropic', operation: 'messages' }, { model: 'claude' }, 500)).toEqual(
      { model: 'claude', max_tokens: 500 },
    );
    expect(withOutputCap(openai('text_completion'), { model: 'gpt-3.5-turbo-instruct' }, 500)).toEqual({
      model: 'gpt-3.5-turbo-instruct',
      max_tokens: 500,
    });
  });

  it('leaves a body that sets its own cap, an embeddings body, or no cap unchanged (same object)', () => {
    const own = { model: 'gpt-4o', max_tokens: 20 };
    expect(withOutputCap(openai('chat'), own, 500)).toBe(own);
    const responses = { model: 'gpt-5', max_output_tokens: 20 };
    expect(withOutputCap(openai('responses'), responses, 500)).toBe(responses);
    const embeddings = { model: 'text-embedding-3-small', input: 'x' };
    expect(withOutputCap(openai('embeddings'), embeddings, 500)).toBe(embeddings);
    const none = { model: 'gpt-4o' };
    expect(withOutputCap(openai('chat'), none, undefined)).toBe(none);
  });
});
