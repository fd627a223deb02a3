import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LlmCallDescriptor, OperationName } from '../call/llm-call';
import {
  documentPageTokenBound,
  EARLY_CLAUDE_IMAGE_TOKENS,
  LATE_CLAUDE_IMAGE_TOKENS,
} from '../tokens/attachment-token-bounds';
import { countTextTokens } from '../tokens/count-text-tokens';
import {
  ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS,
  OPENAI_REPLY_PRIMING_TOKENS,
  OPENAI_TOKENS_PER_BUILT_IN_TOOL,
  OPENAI_TOKENS_PER_FUNCTION_TOOL,
  OPENAI_TOKENS_PER_MESSAGE,
} from '../tokens/token-overheads';
import { preloadTokenizer } from '../tokens/tokenizer';
import { utf8ByteLength } from '../tokens/utf8-byte-length';
import { estimateInputTokens } from './estimate-input-tokens';

beforeAll(() => {
  preloadTokenizer('gpt-4o');
  preloadTokenizer('gpt-4-turbo');
}, 60_000);

function openai(operation: OperationName, model: string, body: Record<string, unknown>): LlmCallDescriptor {
  return { provider: 'openai', operation, model, body };
}

function anthropic(model: string, body: Record<string, unknown>): LlmCallDescriptor {
  return { provider: 'anthropic', operation: 'messages', model, body };
}

const tokens = (text: string, model = 'gpt-4o') => countTextTokens(model, text);
const twoPagePdfBase64 = readFileSync(
  new URL('../tokens/__fixtures__/two-page.pdf', import.meta.url),
).toString('base64');

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string', description: 'City name' } },
      required: ['location'],
    },
  },
};

describe('estimateInputTokens: OpenAI chat', () => {
  it('estimates the field-notes one-message request (~19 text tokens, billed 22) at 22 or more', () => {
    const text = 'Summarise the quarterly report in three bullet points for the finance team, please, today.';
    expect(tokens(text)).toBe(19);
    const estimate = estimateInputTokens(
      openai('chat', 'gpt-4o-mini', { messages: [{ role: 'user', content: text }] }),
    );
    expect(estimate).toEqual({
      estimatedInputTokens: 19 + OPENAI_TOKENS_PER_MESSAGE + OPENAI_REPLY_PRIMING_TOKENS,
      method: 'tiktoken',
      encoding: 'o200k_base',
    });
    expect(estimate.estimatedInputTokens).toBeGreaterThanOrEqual(22);
  });

  it('charges at least the 3 framing tokens per message and 3 reply-priming tokens OpenAI documents', () => {
    const messages = Array.from({ length: 10 }, (_, index) => ({
      role: index % 2 ? 'assistant' : 'user',
      content: 'ok',
    }));
    const estimate = estimateInputTokens(openai('chat', 'gpt-4o', { messages }));
    // Role names are not tokenized, so each message needs one more on top of its framing.
    expect(estimate.estimatedInputTokens).toBeGreaterThanOrEqual(10 * (tokens('ok') + 3 + 1) + 3);
  });

  it('counts tool schemas: the field-notes two-message request with one tool (billed 57)', () => {
    const system =
      'You are a weather assistant. Use the tool to look up current conditions before you answer any question.';
    const user = 'What is the weather like in Paris today? Please answer in Celsius and keep it short.';
    const messages = [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ];
    const without = estimateInputTokens(openai('chat', 'gpt-4o', { messages })).estimatedInputTokens;
    const withTool = estimateInputTokens(
      openai('chat', 'gpt-4o', { messages, tools: [weatherTool] }),
    ).estimatedInputTokens;
    expect(withTool - without).toBe(
      tokens(JSON.stringify(weatherTool.function)) + OPENAI_TOKENS_PER_FUNCTION_TOOL,
    );
    expect(withTool).toBeGreaterThanOrEqual(57);
  });

  it('counts names, multi-part text, refusals, and tool calls with their arguments', () => {
    const base = estimateInputTokens(
      openai('chat', 'gpt-4o', { messages: [{ role: 'user', content: 'hi' }] }),
    );
    const rich = estimateInputTokens(
      openai('chat', 'gpt-4o', {
        messages: [
          {
            role: 'user',
            name: 'alice',
            content: [
              { type: 'text', text: 'hi' },
              { type: 'text', text: 'there' },
            ],
          },
          {
            role: 'assistant',
            content: null,
            refusal: 'I cannot help with that.',
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temperature_c":21}' },
        ],
      }),
    );
    const textAlone =
      tokens('alice') +
      tokens('hi') +
      tokens('there') +
      tokens('I cannot help with that.') +
      tokens('get_weather') +
      tokens('{"location":"Paris"}') +
      tokens('{"temperature_c":21}');
    expect(rich.estimatedInputTokens).toBeGreaterThan(textAlone + 3 * OPENAI_TOKENS_PER_MESSAGE);
    expect(rich.estimatedInputTokens).toBeGreaterThan(base.estimatedInputTokens);
  });

  it('bounds images by model and detail instead of counting their data', () => {
    const image = (detail?: string) => ({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(40_000)}`, detail } },
          ],
        },
      ],
    });
    const high = estimateInputTokens(openai('chat', 'gpt-4o', image('high'))).estimatedInputTokens;
    const low = estimateInputTokens(openai('chat', 'gpt-4o', image('low'))).estimatedInputTokens;
    expect(high - low).toBe(1445 - 85);
    expect(high).toBeLessThan(2000);
    const mini = estimateInputTokens(openai('chat', 'gpt-4o-mini', image())).estimatedInputTokens;
    expect(mini).toBeGreaterThan(2833 + 8 * 5667);
  });

  it('bounds audio and files and counts structured-output schemas', () => {
    const audio = Buffer.alloc(10_000).toString('base64');
    const estimate = estimateInputTokens(
      openai('chat', 'gpt-4o-audio-preview', {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'input_audio', input_audio: { data: audio, format: 'mp3' } },
              {
                type: 'file',
                file: { file_data: `data:application/pdf;base64,${twoPagePdfBase64}`, filename: 'a.pdf' },
              },
            ],
          },
        ],
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
      }),
    );
    const pdf = 2 * documentPageTokenBound({ model: 'gpt-4o-audio-preview', claude: false });
    expect(estimate.estimatedInputTokens).toBeGreaterThan(200 + pdf);
  });

  it('counts unknown part types by their JSON, never as zero', () => {
    const part = { type: 'hologram', payload: 'a fairly long description of a hologram' };
    const estimate = estimateInputTokens(
      openai('chat', 'gpt-4o', { messages: [{ role: 'user', content: [part] }] }),
    );
    expect(estimate.estimatedInputTokens).toBeGreaterThanOrEqual(tokens(JSON.stringify(part)));
  });
});

describe('estimateInputTokens: OpenAI responses', () => {
  it('counts string input and instructions as messages', () => {
    const estimate = estimateInputTokens(
      openai('responses', 'gpt-4.1', { input: 'Hello there', instructions: 'Be brief.' }),
    );
    expect(estimate.estimatedInputTokens).toBe(
      tokens('Hello there') +
        tokens('Be brief.') +
        2 * OPENAI_TOKENS_PER_MESSAGE +
        OPENAI_REPLY_PRIMING_TOKENS,
    );
  });

  it('counts message items, function calls, outputs and parts', () => {
    const estimate = estimateInputTokens(
      openai('responses', 'gpt-4.1', {
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris?' }] },
          { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{"location":"Paris"}' },
          { type: 'function_call_output', call_id: 'c1', output: '{"temperature_c":21}' },
          {
            type: 'message',
            role: 'user',
            content: [{ type: 'input_image', image_url: 'https://x/y.png', detail: 'low' }],
          },
        ],
      }),
    );
    const text =
      tokens('Weather in Paris?') +
      tokens('get_weather') +
      tokens('{"location":"Paris"}') +
      tokens('{"temperature_c":21}');
    expect(estimate.estimatedInputTokens).toBeGreaterThanOrEqual(text + 85);
  });

  it('adds the built-in tool allowance, bounding the ~290 tokens billed for short prompts', () => {
    const input = 'Find the latest news about the Mars rover.';
    const estimate = estimateInputTokens(
      openai('responses', 'gpt-4.1', { input, tools: [{ type: 'web_search' }] }),
    );
    expect(estimate.estimatedInputTokens).toBeGreaterThanOrEqual(290);
    const two = estimateInputTokens(
      openai('responses', 'gpt-4.1', {
        input,
        tools: [{ type: 'web_search_preview' }, { type: 'code_interpreter', container: { type: 'auto' } }],
      }),
    );
    expect(two.estimatedInputTokens - estimate.estimatedInputTokens).toBeGreaterThanOrEqual(
      OPENAI_TOKENS_PER_BUILT_IN_TOOL,
    );
  });

  it('counts function tools like chat tools, and the text.format schema', () => {
    const fn = { type: 'function', name: 'get_weather', parameters: { type: 'object' } };
    const plain = estimateInputTokens(openai('responses', 'gpt-4.1', { input: 'x' })).estimatedInputTokens;
    const withTool = estimateInputTokens(
      openai('responses', 'gpt-4.1', { input: 'x', tools: [fn] }),
    ).estimatedInputTokens;
    expect(withTool - plain).toBe(tokens(JSON.stringify(fn)) + OPENAI_TOKENS_PER_FUNCTION_TOOL);
    const schema = {
      type: 'json_schema',
      name: 'out',
      schema: { type: 'object', properties: { a: { type: 'string' } } },
    };
    const withFormat = estimateInputTokens(
      openai('responses', 'gpt-4.1', { input: 'x', text: { format: schema } }),
    );
    expect(withFormat.estimatedInputTokens).toBeGreaterThan(plain + tokens(JSON.stringify(schema.schema)));
  });
});

describe('estimateInputTokens: embeddings and legacy completions', () => {
  it('counts each embedding input, with token arrays counted by length', () => {
    const model = 'text-embedding-3-small';
    expect(estimateInputTokens(openai('embeddings', model, { input: 'hello world' }))).toEqual({
      estimatedInputTokens: 2,
      method: 'tiktoken',
      encoding: 'cl100k_base',
    });
    expect(
      estimateInputTokens(openai('embeddings', model, { input: ['hello world', 'hello'] }))
        .estimatedInputTokens,
    ).toBe(3);
    expect(
      estimateInputTokens(openai('embeddings', model, { input: [15339, 1917, 0] })).estimatedInputTokens,
    ).toBe(3);
    expect(
      estimateInputTokens(openai('embeddings', model, { input: [[1, 2], [3]] })).estimatedInputTokens,
    ).toBe(3);
  });

  it('counts legacy prompts (string, batch, token arrays) and the suffix, with no chat framing', () => {
    const model = 'gpt-3.5-turbo-instruct';
    expect(
      estimateInputTokens(openai('text_completion', model, { prompt: 'hello world' })).estimatedInputTokens,
    ).toBe(2);
    expect(
      estimateInputTokens(
        openai('text_completion', model, { prompt: ['hello world', 'hello'], suffix: ' world' }),
      ).estimatedInputTokens,
    ).toBe(4);
    expect(
      estimateInputTokens(openai('text_completion', model, { prompt: [1, 2, 3, 4] })).estimatedInputTokens,
    ).toBe(4);
  });
});

describe('estimateInputTokens: Anthropic messages', () => {
  it('approximates Claude text as cl100k × factor and adds framing', () => {
    const estimate = estimateInputTokens(
      anthropic('claude-sonnet-4-5', {
        system: 'You are a scientist',
        messages: [{ role: 'user', content: 'Hello, Claude' }],
      }),
    );
    expect(estimate.method).toBe('approximation');
    expect(estimate.encoding).toBe('cl100k_base');
    const scaled =
      Math.ceil(tokens('You are a scientist', 'gpt-4-turbo') * 1.35) +
      Math.ceil(tokens('Hello, Claude', 'gpt-4-turbo') * 1.35);
    expect(estimate.estimatedInputTokens).toBeGreaterThan(scaled);
    // Anthropic's token-counting example bills this request at 14 input tokens.
    expect(estimate.estimatedInputTokens).toBeGreaterThanOrEqual(14);
  });

  it('counts text blocks, tool use, tool results and thinking', () => {
    const estimate = estimateInputTokens(
      anthropic('claude-opus-4-7', {
        system: [{ type: 'text', text: 'Be terse.' }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'I should call the tool.', signature: 'sig' },
              { type: 'tool_use', id: 't1', name: 'get_weather', input: { location: 'Paris' } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 't1',
                content: [{ type: 'text', text: '21 °C and sunny' }],
              },
            ],
          },
        ],
      }),
    );
    const base = [
      'Be terse.',
      'Weather in Paris?',
      'I should call the tool.',
      'get_weather',
      '{"location":"Paris"}',
      '21 °C and sunny',
    ]
      .map((text) => tokens(text, 'gpt-4-turbo'))
      .reduce((sum, count) => sum + count, 0);
    expect(estimate.estimatedInputTokens).toBeGreaterThan(base * 1.8);
  });

  it('adds the tool-use system prompt and per-tool allowances when tools are present', () => {
    const messages = [{ role: 'user', content: "What's the weather like in San Francisco?" }];
    const tool = {
      name: 'get_weather',
      description: 'Get the current weather in a given location',
      input_schema: {
        type: 'object',
        properties: {
          location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
        },
        required: ['location'],
      },
    };
    const plain = estimateInputTokens(anthropic('claude-opus-5', { messages })).estimatedInputTokens;
    const withTool = estimateInputTokens(
      anthropic('claude-opus-5', { messages, tools: [tool] }),
    ).estimatedInputTokens;
    expect(withTool - plain).toBeGreaterThan(
      ANTHROPIC_TOOL_USE_SYSTEM_PROMPT_TOKENS + tokens(JSON.stringify(tool), 'gpt-4-turbo'),
    );
    // Anthropic's token-counting example bills this request at 403 input tokens.
    expect(withTool).toBeGreaterThanOrEqual(403);
    const withBash = estimateInputTokens(
      anthropic('claude-opus-5', { messages, tools: [tool, { type: 'bash_20250124', name: 'bash' }] }),
    ).estimatedInputTokens;
    expect(withBash - withTool).toBeGreaterThanOrEqual(245);
  });

  it('bounds images per model generation and PDFs per page', () => {
    const image = {
      type: 'image',
      source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(100_000) },
    };
    const early = estimateInputTokens(
      anthropic('claude-sonnet-4-5', { messages: [{ role: 'user', content: [image] }] }),
    );
    const late = estimateInputTokens(
      anthropic('claude-opus-4-7', { messages: [{ role: 'user', content: [image] }] }),
    );
    expect(early.estimatedInputTokens).toBeGreaterThanOrEqual(EARLY_CLAUDE_IMAGE_TOKENS);
    expect(early.estimatedInputTokens).toBeLessThan(EARLY_CLAUDE_IMAGE_TOKENS + 50);
    expect(late.estimatedInputTokens).toBeGreaterThanOrEqual(LATE_CLAUDE_IMAGE_TOKENS);

    const pdf = {
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: twoPagePdfBase64 },
    };
    const withPdf = estimateInputTokens(
      anthropic('claude-sonnet-4-5', { messages: [{ role: 'user', content: [pdf] }] }),
    );
    expect(withPdf.estimatedInputTokens).toBeGreaterThanOrEqual(
      2 * documentPageTokenBound({ model: 'claude-sonnet-4-5', claude: true }),
    );
    const textDocument = {
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data: 'hello world' },
    };
    const withText = estimateInputTokens(
      anthropic('claude-sonnet-4-5', { messages: [{ role: 'user', content: [textDocument] }] }),
    );
    expect(withText.estimatedInputTokens).toBeLessThan(50);
  });

  it('approximates Claude behind an OpenAI-compatible gateway too', () => {
    const estimate = estimateInputTokens({
      provider: 'openrouter',
      operation: 'chat',
      model: 'anthropic/claude-3.5-sonnet',
      body: { messages: [{ role: 'user', content: 'hello world' }] },
    });
    expect(estimate.method).toBe('approximation');
  });
});

describe('estimateInputTokens: byte bound', () => {
  it('uses the byte length above exactCountMaxBytes, still adds overheads, and stays above the exact count', () => {
    const content = 'The quick brown fox jumps over the lazy dog. '.repeat(500);
    const call = openai('chat', 'gpt-4o', { messages: [{ role: 'user', content }] });
    const exact = estimateInputTokens(call, { exactCountMaxBytes: Number.POSITIVE_INFINITY });
    const bounded = estimateInputTokens(call, { exactCountMaxBytes: 1000 });
    expect(exact.method).toBe('tiktoken');
    expect(bounded).toEqual({
      estimatedInputTokens: utf8ByteLength(content) + OPENAI_TOKENS_PER_MESSAGE + OPENAI_REPLY_PRIMING_TOKENS,
      method: 'byte-bound',
      encoding: undefined,
    });
    expect(bounded.estimatedInputTokens).toBeGreaterThan(exact.estimatedInputTokens);
  });

  it('takes the byte bound by default for large requests and counts exactly below it', () => {
    const small = openai('chat', 'gpt-4o', { messages: [{ role: 'user', content: 'x'.repeat(1000) }] });
    const large = openai('chat', 'gpt-4o', { messages: [{ role: 'user', content: 'word '.repeat(10_000) }] });
    expect(estimateInputTokens(small).method).toBe('tiktoken');
    expect(estimateInputTokens(large).method).toBe('byte-bound');
  });

  it('does not multiply the byte bound for Claude: bytes already bound any byte-level BPE', () => {
    const content = 'word '.repeat(10_000);
    const estimate = estimateInputTokens(
      anthropic('claude-opus-4-7', { messages: [{ role: 'user', content }] }),
    );
    expect(estimate.method).toBe('byte-bound');
    expect(estimate.estimatedInputTokens).toBeLessThan(utf8ByteLength(content) + 50);
  });
});

describe('estimateInputTokens: odd shapes', () => {
  const cyclic: Record<string, unknown> = { role: 'user' };
  cyclic.self = cyclic;
  const hostile = new Proxy(
    {},
    {
      get() {
        throw new Error('no reading');
      },
    },
  );

  it.each([
    ['a null body', 'chat', null],
    ['a string body', 'messages', 'hello'],
    ['messages as a string', 'chat', { messages: 'hello there' }],
    [
      'null and numeric messages',
      'chat',
      { messages: [null, 42, { role: 'user', content: { weird: true } }] },
    ],
    ['a cyclic message', 'chat', { messages: [cyclic] }],
    ['a BigInt in a part', 'responses', { input: [{ role: 'user', content: [{ type: 'x', n: 10n }] }] }],
    ['a hostile proxy', 'responses', hostile],
    ['tools that are not objects', 'chat', { messages: [], tools: [null, 'x', 3] }],
    ['an unknown operation', 'speech', { input: 'Say hello' }],
    ['embedding input of mixed types', 'embeddings', { input: [1, 'a', null, [2, 'b']] }],
    [
      'anthropic content of odd blocks',
      'messages',
      { messages: [{ role: 'user', content: [null, 'x', { type: 'image' }, { type: 'document' }] }] },
    ],
  ])('does not throw for %s and never counts zero', (_label, operation, body) => {
    const call = { provider: 'openai', operation, model: 'gpt-4o', body } as unknown as LlmCallDescriptor;
    const estimate = estimateInputTokens(call);
    expect(estimate.estimatedInputTokens).toBeGreaterThanOrEqual(1);
    expect(['tiktoken', 'approximation', 'byte-bound']).toContain(estimate.method);
  });

  it.each(['chat', 'responses', 'embeddings', 'text_completion', 'messages'] as const)(
    'counts at least 1 token for an empty %s body',
    (operation) => {
      expect(
        estimateInputTokens(openai(operation, 'gpt-4o', {})).estimatedInputTokens,
      ).toBeGreaterThanOrEqual(1);
    },
  );

  it('rejects invalid options even though it never throws on request shapes', () => {
    expect(() => estimateInputTokens(openai('chat', 'gpt-4o', {}), { exactCountMaxBytes: -5 })).toThrow(
      TypeError,
    );
  });
});
