import { describe, expect, it } from 'vitest';
import { isSupportedAnthropicVersion } from './instrumentation';
import { deltaText, foldCumulativeUsage, messageText, messageUsage } from './utils';

describe('messageUsage', () => {
  it('adds cache reads and writes to input_tokens, which leaves them out', () => {
    expect(
      messageUsage({
        input_tokens: 10,
        cache_read_input_tokens: 200,
        cache_creation_input_tokens: 30,
        output_tokens: 7,
        output_tokens_details: { thinking_tokens: 5 },
      }),
    ).toEqual({
      inputTokens: 240,
      outputTokens: 7,
      cacheReadInputTokens: 200,
      cacheWriteInputTokens: 30,
      reasoningOutputTokens: 5,
    });
  });

  it('keeps unknown apart from zero', () => {
    expect(
      messageUsage({
        input_tokens: 10,
        cache_read_input_tokens: null,
        cache_creation_input_tokens: null,
        output_tokens: 3,
      }),
    ).toEqual({
      inputTokens: 10,
      outputTokens: 3,
      cacheReadInputTokens: undefined,
      cacheWriteInputTokens: undefined,
      reasoningOutputTokens: undefined,
    });
    expect(messageUsage({ output_tokens: 3 })?.inputTokens).toBeUndefined();
  });

  it('returns undefined for usage without counts', () => {
    expect(messageUsage({})).toBeUndefined();
    expect(messageUsage(undefined)).toBeUndefined();
    expect(messageUsage({ input_tokens: -1, output_tokens: 'many' })).toBeUndefined();
  });
});

describe('foldCumulativeUsage', () => {
  it('replaces earlier totals with later ones and never adds them', () => {
    const start = foldCumulativeUsage(
      {},
      { input_tokens: 20, cache_read_input_tokens: 5, cache_creation_input_tokens: 0, output_tokens: 1 },
    );
    const first = foldCumulativeUsage(start, { output_tokens: 8 });
    const last = foldCumulativeUsage(first, {
      input_tokens: 20,
      cache_read_input_tokens: 5,
      cache_creation_input_tokens: null,
      output_tokens: 15,
    });
    expect(messageUsage(last)).toMatchObject({
      inputTokens: 25,
      outputTokens: 15,
      cacheReadInputTokens: 5,
      cacheWriteInputTokens: 0,
    });
    expect(foldCumulativeUsage(last, undefined)).toBe(last);
  });
});

describe('streamed and returned text', () => {
  it('reads text, tool input and thinking deltas, and skips signatures', () => {
    expect(deltaText({ type: 'text_delta', text: 'Hi' })).toBe('Hi');
    expect(deltaText({ type: 'input_json_delta', partial_json: '{"a"' })).toBe('{"a"');
    expect(deltaText({ type: 'thinking_delta', thinking: 'hmm' })).toBe('hmm');
    expect(deltaText({ type: 'signature_delta', signature: 'abc' })).toBeUndefined();
    expect(deltaText(undefined)).toBeUndefined();
  });

  it('joins the text of every generated block', () => {
    expect(
      messageText({
        content: [
          { type: 'thinking', thinking: 'Let me see. ' },
          { type: 'text', text: 'Calling it.' },
          { type: 'tool_use', name: 'lookup', input: { q: 'x' } },
          { type: 'image', source: {} },
        ],
      }),
    ).toBe('Let me see. Calling it.lookup{"q":"x"}');
  });
});

describe('isSupportedAnthropicVersion', () => {
  it('accepts 0.50 up to 1.x and refuses the rest', () => {
    for (const version of ['0.50.0', '0.50.4', '0.137.0', '1.0.0', '1.12.0', '1.13.0-beta.1']) {
      expect(isSupportedAnthropicVersion(version), version).toBe(true);
    }
    for (const version of ['0.41.0', '0.9.1', '2.0.0', '10.0.0', 'latest', '']) {
      expect(isSupportedAnthropicVersion(version), version).toBe(false);
    }
  });
});
