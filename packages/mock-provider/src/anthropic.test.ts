import Anthropic, { type APIError as AnthropicApiError } from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './mock-provider';
import { mockOutputText } from './token-scheme';

let mock: MockProvider;
let anthropic: Anthropic;

beforeAll(async () => {
  mock = await startMockProvider({ port: 0, outputTokens: 5 });
  anthropic = new Anthropic({ baseURL: mock.anthropicBaseUrl, apiKey: 'test-key', maxRetries: 0 });
});
afterEach(() => {
  mock.reset();
  mock.configure({ outputTokens: 5, reasoningTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 });
});
afterAll(() => mock.close());

const request = {
  model: 'claude-haiku-4-5',
  max_tokens: 1024,
  system: 'You are terse.',
  messages: [{ role: 'user' as const, content: 'Say hello to the mock provider' }],
};
// system 3+3, one message 3+6, priming 3
const INPUT_TOKENS = 18;

describe('messages', () => {
  it('answers a message whose usage matches what it billed', async () => {
    const message = await anthropic.messages.create(request);

    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5',
      content: [{ type: 'text', text: mockOutputText(5) }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: INPUT_TOKENS,
        output_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
    expect(mock.requests()[0]).toMatchObject({
      provider: 'anthropic',
      endpoint: 'messages',
      completed: true,
      billed: { inputTokens: INPUT_TOKENS, outputTokens: 5 },
    });
    expect(mock.requests()[0]?.headers['anthropic-version']).toBeDefined();
  });

  it('carves cache reads and writes out of input_tokens', async () => {
    mock.configure({ cacheReadInputTokens: 10, cacheWriteInputTokens: 4 });
    const message = await anthropic.messages.create(request);

    expect(message.usage).toMatchObject({
      input_tokens: INPUT_TOKENS - 14,
      cache_read_input_tokens: 10,
      cache_creation_input_tokens: 4,
    });
    expect(mock.billed()).toMatchObject({
      inputTokens: INPUT_TOKENS,
      cacheReadInputTokens: 10,
      cacheWriteInputTokens: 4,
    });
  });

  it('streams message_start, text deltas and a cumulative message_delta', async () => {
    mock.configure({ cacheReadInputTokens: 3 });
    const stream = await anthropic.messages.create({ ...request, stream: true });
    const events: Anthropic.MessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const start = events[0] as Anthropic.RawMessageStartEvent;
    expect(start.message.usage).toMatchObject({
      input_tokens: INPUT_TOKENS - 3,
      cache_read_input_tokens: 3,
      output_tokens: 1,
    });
    const delta = events.at(-2) as Anthropic.RawMessageDeltaEvent;
    expect(delta.usage.output_tokens).toBe(5);
    expect(delta.delta.stop_reason).toBe('end_turn');
    expect(mock.billed()).toMatchObject({
      inputTokens: INPUT_TOKENS,
      outputTokens: 5,
      cacheReadInputTokens: 3,
    });
  });

  it('gives messages.stream() a final message with the cumulative usage, not a sum', async () => {
    const stream = anthropic.messages.stream(request);
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const final = await stream.finalMessage();

    expect(texts.join('')).toBe(mockOutputText(5));
    expect(final.usage.output_tokens).toBe(5);
    expect(final.usage.input_tokens).toBe(INPUT_TOKENS);
    expect(final.stop_reason).toBe('end_turn');
  });

  it('caps output at max_tokens with stop_reason max_tokens', async () => {
    const message = await anthropic.messages.create({ ...request, max_tokens: 2 });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage.output_tokens).toBe(2);
  });

  it('streams a thinking block billed as output when thinking is enabled', async () => {
    mock.configure({ reasoningTokens: 4 });
    const final = await anthropic.messages
      .stream({ ...request, thinking: { type: 'enabled', budget_tokens: 1024 } })
      .finalMessage();

    expect(final.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: mockOutputText(4) });
    expect(final.usage.output_tokens).toBe(9);
    expect(mock.requests()[0]?.billed).toMatchObject({ outputTokens: 9, reasoningOutputTokens: 4 });
  });

  it('uses a forced tool, then answers the tool result in text', async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ];
    const first = await anthropic.messages
      .stream({ ...request, tools, tool_choice: { type: 'any' } })
      .finalMessage();
    const toolUse = first.content[0];
    expect(first.stop_reason).toBe('tool_use');
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'hello' } });
    if (toolUse?.type !== 'tool_use') throw new Error('unreachable');

    const second = await anthropic.messages.create({
      ...request,
      tools,
      tool_choice: { type: 'any' },
      messages: [
        ...request.messages,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '21 degrees' }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: mockOutputText(5) }]);
  });

  it('counts tokens for free', async () => {
    const counted = await anthropic.messages.countTokens({
      model: request.model,
      system: request.system,
      messages: request.messages,
    });

    expect(counted.input_tokens).toBe(INPUT_TOKENS);
    expect(mock.requests()[0]).toMatchObject({
      endpoint: 'messages.count_tokens',
      billed: { inputTokens: 0 },
    });
  });
});

describe('beta messages', () => {
  it('serves beta.messages.create on /v1/messages?beta=true', async () => {
    const message = await anthropic.beta.messages.create({
      ...request,
      betas: ['context-management-2025-06-27'],
    });
    const stream = await anthropic.beta.messages.create({ ...request, stream: true });
    let output = 0;
    for await (const event of stream) if (event.type === 'message_delta') output = event.usage.output_tokens;
    const counted = await anthropic.beta.messages.countTokens({
      model: request.model,
      messages: request.messages,
    });

    expect(message.content).toEqual([{ type: 'text', text: mockOutputText(5) }]);
    expect(output).toBe(5);
    expect(counted.input_tokens).toBe(INPUT_TOKENS - 6);
    expect(mock.requests().map((served) => served.endpoint)).toEqual([
      'messages',
      'messages',
      'messages.count_tokens',
    ]);
    expect(mock.requests()[0]?.headers['anthropic-beta']).toContain('context-management-2025-06-27');
  });
});

describe('errors', () => {
  it('answers a request without max_tokens with an invalid_request_error', async () => {
    const error = await anthropic.messages
      .create({
        model: request.model,
        messages: request.messages,
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as AnthropicApiError).type).toBe('invalid_request_error');
    expect((error as AnthropicApiError).requestID).toBe(mock.requests()[0]?.id);
  });
});
