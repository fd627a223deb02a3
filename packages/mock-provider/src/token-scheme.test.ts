import { getEncoding, type Tiktoken } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import {
  ATTACHMENT_TOKENS,
  countMockInputTokens,
  countWords,
  MESSAGE_OVERHEAD_TOKENS,
  mockOutputText,
  mockOutputWord,
  REPLY_PRIMING_TOKENS,
} from './token-scheme';

const encodings = new Map<string, Tiktoken>();
function encoding(name: 'o200k_base' | 'cl100k_base'): Tiktoken {
  let cached = encodings.get(name);
  if (!cached) {
    cached = getEncoding(name);
    encodings.set(name, cached);
  }
  return cached;
}

describe('output text', () => {
  it.each(['o200k_base', 'cl100k_base'] as const)('is exactly one %s token per billed token', (name) => {
    const tokenizer = encoding(name);
    for (let tokens = 0; tokens <= 120; tokens++) {
      expect(tokenizer.encode(mockOutputText(tokens)).length, `${tokens} tokens`).toBe(tokens);
    }
    expect(tokenizer.encode(mockOutputText(2_000)).length).toBe(2_000);
  });

  it('streams word by word, each piece one token on its own', () => {
    for (let index = 0; index < 20; index++)
      expect(encoding('o200k_base').encode(mockOutputWord(index))).toHaveLength(1);
    expect(mockOutputText(12)).toBe('Hello world this is a mock reply from the model hello world');
  });
});

describe('input tokens', () => {
  it('counts whitespace-separated words', () => {
    expect(countWords('')).toBe(0);
    expect(countWords('  one\ttwo\n three  ')).toBe(3);
    expect(countWords('naïve café, déjà-vu!')).toBe(3);
  });

  it('adds per-message overhead and reply priming to chat requests', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
      ],
    };
    expect(countMockInputTokens('chat.completions', body)).toBe(
      REPLY_PRIMING_TOKENS + 2 * MESSAGE_OVERHEAD_TOKENS + 2 + 3 + ATTACHMENT_TOKENS,
    );
  });

  it('bills tool definitions as structured tokens', () => {
    const withoutTools = { messages: [{ role: 'user', content: 'hi' }] };
    const tool = { type: 'function', function: { name: 'f', parameters: { type: 'object' } } };
    // keys: type, function, name, parameters, type (5) + values: function, f, object (3)
    expect(countMockInputTokens('chat.completions', { ...withoutTools, tools: [tool] })).toBe(
      countMockInputTokens('chat.completions', withoutTools) + 8,
    );
  });

  it('counts Responses input strings, items and instructions', () => {
    expect(countMockInputTokens('responses', { input: 'one two', instructions: 'three' })).toBe(
      3 + 3 + 2 + 3 + 1,
    );
    expect(
      countMockInputTokens('responses', {
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'one two' }] },
          { type: 'function_call_output', call_id: 'c', output: 'three four five' },
        ],
      }),
    ).toBe(3 + 3 + 2 + 3 + 3);
  });

  it('counts Anthropic system blocks, messages and tool results', () => {
    const body = {
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [
        { role: 'user', content: 'one two three' },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'four five' }] },
      ],
    };
    expect(countMockInputTokens('messages', body)).toBe(3 + 3 + 2 + 3 + 3 + 3 + 2);
    expect(countMockInputTokens('messages.count_tokens', body)).toBe(countMockInputTokens('messages', body));
  });

  it('counts embeddings and legacy prompts without overhead, token arrays by length', () => {
    expect(countMockInputTokens('embeddings', { input: ['one two', 'three'] })).toBe(3);
    expect(countMockInputTokens('embeddings', { input: [1, 2, 3, 4] })).toBe(4);
    expect(countMockInputTokens('completions', { prompt: [[1, 2], [3]] })).toBe(3);
    expect(countMockInputTokens('completions', { prompt: 'Once upon a time', suffix: 'The end' })).toBe(6);
  });
});
