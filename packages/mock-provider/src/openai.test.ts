import { getEncoding } from 'js-tiktoken';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './mock-provider';
import { countMockInputTokens, mockOutputText } from './token-scheme';

let mock: MockProvider;
let openai: OpenAI;

beforeAll(async () => {
  mock = await startMockProvider({ port: 0, outputTokens: 6 });
  openai = new OpenAI({ baseURL: mock.openaiBaseUrl, apiKey: 'test-key', maxRetries: 0 });
});
afterEach(() => {
  mock.reset();
  mock.configure({
    outputTokens: 6,
    reasoningTokens: 0,
    cacheReadInputTokens: 0,
    includeUsageInStream: 'auto',
  });
});
afterAll(() => mock.close());

const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello to the mock provider' },
];

describe('chat completions', () => {
  it('answers JSON with usage that matches what it billed', async () => {
    const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });

    // 3 per message + words (3 + 6) + 3 reply priming
    expect(countMockInputTokens('chat.completions', { messages })).toBe(3 + 3 + 3 + 6 + 3);
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          logprobs: null,
          message: { role: 'assistant', content: mockOutputText(6) },
        },
      ],
      usage: {
        prompt_tokens: 18,
        completion_tokens: 6,
        total_tokens: 24,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
    expect(completion._request_id).toBe(mock.requests()[0]?.id);
    expect(mock.billed()).toEqual({
      requests: 1,
      inputTokens: 18,
      outputTokens: 6,
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
      reasoningOutputTokens: 0,
    });
    expect(mock.requests()[0]).toMatchObject({
      provider: 'openai',
      endpoint: 'chat.completions',
      model: 'gpt-4o-mini',
      stream: false,
      completed: true,
      clientAborted: false,
      status: 200,
    });
    expect(mock.requests()[0]?.headers.authorization).toBe('Bearer test-key');
  });

  it('bills every choice and caps output at max_completion_tokens with finish_reason length', async () => {
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      n: 3,
      max_completion_tokens: 4,
    });

    expect(
      completion.choices.map((choice) => [choice.index, choice.finish_reason, choice.message.content]),
    ).toEqual([
      [0, 'length', mockOutputText(4)],
      [1, 'length', mockOutputText(4)],
      [2, 'length', mockOutputText(4)],
    ]);
    expect(completion.usage?.completion_tokens).toBe(12);
    expect(mock.billed().outputTokens).toBe(12);
  });

  it('reports cache reads inside prompt_tokens and reasoning inside completion_tokens', async () => {
    mock.configure({ cacheReadInputTokens: 10, reasoningTokens: 5 });
    const reasoning = await openai.chat.completions.create({ model: 'o4-mini', messages });
    const plain = await openai.chat.completions.create({ model: 'gpt-4.1', messages });

    expect(reasoning.usage).toMatchObject({
      prompt_tokens: 18,
      completion_tokens: 11,
      prompt_tokens_details: { cached_tokens: 10 },
      completion_tokens_details: { reasoning_tokens: 5 },
    });
    expect(plain.usage?.completion_tokens_details?.reasoning_tokens).toBe(0);
    expect(mock.requests()[0]?.billed).toEqual({
      inputTokens: 18,
      outputTokens: 11,
      cacheReadInputTokens: 10,
      cacheWriteInputTokens: 0,
      reasoningOutputTokens: 5,
    });
  });

  it('streams role, content and finish chunks, with a usage chunk only when include_usage is set', async () => {
    const withUsage = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of withUsage) chunks.push(chunk);

    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(mockOutputText(6));
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 18, completion_tokens: 6, total_tokens: 24 });

    const withoutUsage = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    });
    const plainChunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of withoutUsage) plainChunks.push(chunk);
    expect(plainChunks.some((chunk) => chunk.usage)).toBe(false);
    expect(plainChunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(mock.billed()).toMatchObject({ requests: 2, inputTokens: 36, outputTokens: 12 });
  });

  it('streams text whose o200k token count equals the billed output', async () => {
    mock.configure({ outputTokens: 57 });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';

    expect(getEncoding('o200k_base').encode(text)).toHaveLength(57);
    expect(mock.billed().outputTokens).toBe(57);
  });

  it('honours includeUsageInStream: always', async () => {
    mock.configure({ includeUsageInStream: 'always' });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    expect(usage?.completion_tokens).toBe(6);
  });

  it('works with chat.completions.stream() and its final completion', async () => {
    const runner = openai.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    runner.on('content.delta', ({ delta }) => deltas.push(delta));
    const final = await runner.finalChatCompletion();

    expect(deltas).toHaveLength(6);
    expect(final.choices[0]?.message.content).toBe(mockOutputText(6));
    expect(final.usage?.completion_tokens).toBe(6);
    expect(mock.requests()[0]?.headers['x-stainless-helper-method']).toBe('stream');
  });

  it('returns JSON matching a json_schema response format, so parse() works without zod', async () => {
    const completion = await openai.chat.completions.parse({
      model: 'gpt-4o-mini',
      messages,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'weather',
          strict: true,
          schema: {
            type: 'object',
            additionalProperties: false,
            required: ['city', 'days', 'sunny', 'unit'],
            properties: {
              city: { type: 'string' },
              days: { type: 'integer', minimum: 1 },
              sunny: { type: 'boolean' },
              unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
            },
          },
        },
      },
    });

    expect(completion.choices[0]?.message.parsed).toEqual({
      city: 'hello',
      days: 1,
      sunny: false,
      unit: 'celsius',
    });
    expect(completion.usage?.completion_tokens).toBe(mock.requests()[0]?.billed.outputTokens);
  });

  it('calls a forced tool, then answers in text so runTools() terminates', async () => {
    const calls: unknown[] = [];
    const runner = openai.chat.completions.runTools({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tool_choice: 'required',
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            parse: JSON.parse,
            function: (args: unknown) => {
              calls.push(args);
              return { temperature: 21 };
            },
          },
        },
      ],
    });
    const content = await runner.finalContent();

    expect(calls).toEqual([{ city: 'hello' }]);
    expect(content).toBe(mockOutputText(6));
    const served = mock.requests();
    expect(served).toHaveLength(2);
    expect(
      (served[1]!.body as { messages: { role: string }[] }).messages.map((message) => message.role),
    ).toEqual(['user', 'assistant', 'tool']);
  });

  it('streams tool calls that chat.completions.stream() can assemble', async () => {
    mock.configure({ toolCalls: 'when-offered' });
    try {
      const final = await openai.chat.completions
        .stream({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Weather?' }],
          tools: [
            {
              type: 'function',
              function: {
                name: 'get_weather',
                parameters: { type: 'object', properties: { city: { type: 'string' } } },
              },
            },
          ],
        })
        .finalChatCompletion();
      expect(final.choices[0]?.finish_reason).toBe('tool_calls');
      expect(final.choices[0]?.message.tool_calls?.[0]).toMatchObject({
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"hello"}' },
      });
    } finally {
      mock.configure({ toolCalls: 'when-forced' });
    }
  });
});

describe('responses', () => {
  it('answers a response object with usage', async () => {
    mock.configure({ cacheReadInputTokens: 2 });
    const response = await openai.responses.create({
      model: 'gpt-4.1-mini',
      instructions: 'Be brief.',
      input: 'Tell me a story',
    });

    expect(response).toMatchObject({
      object: 'response',
      status: 'completed',
      output: [
        {
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: mockOutputText(6), annotations: [] }],
        },
      ],
      usage: {
        input_tokens: 3 + 2 + 3 + 4 + 3,
        output_tokens: 6,
        total_tokens: 21,
        input_tokens_details: { cached_tokens: 2 },
        output_tokens_details: { reasoning_tokens: 0 },
      },
    });
    expect(response.output_text).toBe(mockOutputText(6));
  });

  it('streams events in order with sequence numbers, and responses.stream() finishes', async () => {
    mock.configure({ reasoningTokens: 3 });
    const stream = openai.responses.stream({ model: 'gpt-5-mini', input: 'Tell me a story' });
    const types: string[] = [];
    const sequence: number[] = [];
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
    }
    const final = await stream.finalResponse();

    expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
    expect(types).toContain('response.output_item.added');
    expect(types).toContain('response.content_part.added');
    expect(types.filter((type) => type === 'response.output_text.delta')).toHaveLength(6);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(sequence).toEqual(sequence.map((_, index) => index));
    expect(final.output_text).toBe(mockOutputText(6));
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(final.usage).toMatchObject({ output_tokens: 9, output_tokens_details: { reasoning_tokens: 3 } });
    expect(mock.requests()[0]?.billed).toMatchObject({ outputTokens: 9, reasoningOutputTokens: 3 });
  });

  it('leaves usage out of response.completed when includeUsageInStream is never', async () => {
    mock.configure({ includeUsageInStream: 'never' });
    const final = await openai.responses.stream({ model: 'gpt-4.1', input: 'Hi' }).finalResponse();
    expect(final.usage).toBeUndefined();
    expect(mock.billed().outputTokens).toBe(6);
  });

  it('ends with response.incomplete when max_output_tokens cuts the output', async () => {
    const stream = await openai.responses.create({
      model: 'gpt-4.1',
      input: 'Tell me a story',
      max_output_tokens: 2,
      stream: true,
    });
    let last: OpenAI.Responses.ResponseStreamEvent | undefined;
    for await (const event of stream) last = event;

    expect(last?.type).toBe('response.incomplete');
    if (last?.type !== 'response.incomplete') throw new Error('unreachable');
    expect(last.response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(last.response.usage?.output_tokens).toBe(2);
  });

  it('returns structured output that responses.parse() parses', async () => {
    const response = await openai.responses.parse({
      model: 'gpt-4.1',
      input: 'Give me a city',
      text: {
        format: {
          type: 'json_schema',
          name: 'city',
          strict: true,
          schema: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: { name: { type: 'string' } },
          },
        },
      },
    });
    expect(response.output_parsed).toEqual({ name: 'hello' });
  });

  it('streams a function call and then answers the function output in text', async () => {
    const tools: OpenAI.Responses.Tool[] = [
      {
        type: 'function',
        name: 'lookup',
        strict: true,
        parameters: {
          type: 'object',
          additionalProperties: false,
          required: ['q'],
          properties: { q: { type: 'string' } },
        },
      },
    ];
    const first = await openai.responses
      .stream({
        model: 'gpt-4.1',
        input: [{ role: 'user', content: 'Find it' }],
        tools,
        tool_choice: 'required',
      })
      .finalResponse();
    const call = first.output[0];
    expect(call).toMatchObject({ type: 'function_call', name: 'lookup', arguments: '{"q":"hello"}' });
    if (call?.type !== 'function_call') throw new Error('unreachable');

    const second = await openai.responses.create({
      model: 'gpt-4.1',
      input: [
        { role: 'user', content: 'Find it' },
        call,
        { type: 'function_call_output', call_id: call.call_id, output: 'found' },
      ],
      tools,
      tool_choice: 'required',
    });
    expect(second.output_text).toBe(mockOutputText(6));
  });
});

describe('embeddings', () => {
  it('decodes the default base64 encoding to float vectors of the right dimension', async () => {
    const result = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['one two', 'three'],
    });

    expect((mock.requests()[0]!.body as { encoding_format?: string }).encoding_format).toBe('base64');
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding).toHaveLength(1536);
    const norm = Math.hypot(...(result.data[0]?.embedding ?? []));
    expect(norm).toBeCloseTo(1, 4);
    expect(result.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(mock.billed()).toMatchObject({ inputTokens: 3, outputTokens: 0 });
  });

  it('returns the same vector as floats and honours dimensions', async () => {
    const asBase64 = await openai.embeddings.create({
      model: 'text-embedding-3-large',
      input: 'same text',
      dimensions: 256,
    });
    const asFloats = await openai.embeddings.create({
      model: 'text-embedding-3-large',
      input: 'same text',
      dimensions: 256,
      encoding_format: 'float',
    });
    const large = await openai.embeddings.create({ model: 'text-embedding-3-large', input: 'x' });

    expect(asFloats.data[0]?.embedding).toHaveLength(256);
    expect(asFloats.data[0]?.embedding).toEqual(asBase64.data[0]?.embedding);
    expect(large.data[0]?.embedding).toHaveLength(3072);
  });
});

describe('legacy completions', () => {
  it('answers JSON and streams, capped by the API default of 16 tokens', async () => {
    mock.configure({ outputTokens: 40 });
    const completion = await openai.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Once upon a time',
    });
    expect(completion.choices[0]).toMatchObject({ text: mockOutputText(16), finish_reason: 'length' });
    expect(completion.usage).toEqual({ prompt_tokens: 4, completion_tokens: 16, total_tokens: 20 });

    const stream = await openai.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Once upon a time',
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(mockOutputText(5));
    expect(usage?.completion_tokens).toBe(5);
    expect(mock.billed().outputTokens).toBe(21);
  });
});

describe('routing', () => {
  it('answers unknown paths with a JSON 404 that the SDK raises as NotFoundError', async () => {
    const error = await openai.models.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(mock.requests()).toHaveLength(0);
  });

  it('answers a malformed request with a 400 BadRequestError', async () => {
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(mock.requests()[0]?.status).toBe(400);
  });
});
