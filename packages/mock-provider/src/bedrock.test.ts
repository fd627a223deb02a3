import {
  BedrockRuntimeClient,
  type BedrockRuntimeClientConfig,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from './mock-provider';
import { mockOutputText } from './token-scheme';

let mock: MockProvider;
const clients: BedrockRuntimeClient[] = [];

/** A client with the SDK's default (HTTP/2) handler, static fake credentials and no retries. */
function bedrock(config: Partial<BedrockRuntimeClientConfig> = {}): BedrockRuntimeClient {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: mock.url,
    credentials: { accessKeyId: 'AKIDMOCK', secretAccessKey: 'mock-secret' },
    maxAttempts: 1,
    ...config,
  });
  clients.push(client);
  return client;
}

/** The raw response headers, which the SDK's InvokeModel output does not model. */
function captureHeaders(client: BedrockRuntimeClient): Record<string, string> {
  const seen: Record<string, string> = {};
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      Object.assign(seen, (result.response as { headers: Record<string, string> }).headers);
      return result;
    },
    { step: 'deserialize', name: 'captureHeaders' },
  );
  return seen;
}

beforeAll(async () => {
  mock = await startMockProvider({ outputTokens: 5 });
});
afterEach(async () => {
  await mock.whenIdle();
  mock.reset();
  mock.configure({ outputTokens: 5, reasoningTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 });
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await mock.close();
});

const modelId = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
const converse = {
  modelId,
  system: [{ text: 'You are terse.' }],
  messages: [{ role: 'user' as const, content: [{ text: 'Say hello to the mock provider' }] }],
};
// system 3+3, one message 3+6, priming 3
const INPUT_TOKENS = 18;

describe('Converse', () => {
  it('answers over HTTP/2 with usage matching what it billed', async () => {
    const output = await bedrock().send(new ConverseCommand(converse));

    expect(output.output?.message?.content).toEqual([{ text: mockOutputText(5) }]);
    expect(output.stopReason).toBe('end_turn');
    expect(output.usage).toEqual({
      inputTokens: INPUT_TOKENS,
      outputTokens: 5,
      totalTokens: INPUT_TOKENS + 5,
    });
    const served = mock.requests()[0];
    expect(served).toMatchObject({
      provider: 'aws.bedrock',
      endpoint: 'converse',
      model: modelId,
      stream: false,
      httpVersion: '2.0',
      billed: { inputTokens: INPUT_TOKENS, outputTokens: 5 },
    });
    expect(served?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDMOCK\//);
    expect(output.$metadata.requestId).toBe(served?.id);
  });

  it('serves the same client over HTTP/1.1 when given a NodeHttpHandler', async () => {
    const output = await bedrock({ requestHandler: new NodeHttpHandler() }).send(
      new ConverseCommand(converse),
    );
    expect(output.usage?.outputTokens).toBe(5);
    expect(mock.requests()[0]?.httpVersion).toBe('1.1');
  });

  it('carves cache reads and writes out of inputTokens', async () => {
    mock.configure({ cacheReadInputTokens: 10, cacheWriteInputTokens: 4 });
    const output = await bedrock().send(new ConverseCommand(converse));

    expect(output.usage).toEqual({
      inputTokens: INPUT_TOKENS - 14,
      outputTokens: 5,
      totalTokens: INPUT_TOKENS + 5,
      cacheReadInputTokens: 10,
      cacheWriteInputTokens: 4,
    });
    expect(mock.billed()).toMatchObject({
      inputTokens: INPUT_TOKENS,
      cacheReadInputTokens: 10,
      cacheWriteInputTokens: 4,
    });
  });

  it('stops at inferenceConfig.maxTokens and decodes ARN model ids', async () => {
    const arn = `arn:aws:bedrock:us-east-1:123456789012:inference-profile/${modelId}`;
    const output = await bedrock().send(
      new ConverseCommand({ ...converse, modelId: arn, inferenceConfig: { maxTokens: 2 } }),
    );

    expect(output.stopReason).toBe('max_tokens');
    expect(output.usage?.outputTokens).toBe(2);
    expect(mock.requests()[0]?.model).toBe(arn);
  });

  it('uses a forced tool, then answers the tool result in text', async () => {
    const toolConfig = {
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } },
          },
        },
      ],
      toolChoice: { any: {} },
    };
    const first = await bedrock().send(new ConverseCommand({ ...converse, toolConfig }));
    const toolUse = first.output?.message?.content?.[0]?.toolUse;
    expect(first.stopReason).toBe('tool_use');
    expect(toolUse).toMatchObject({ name: 'get_weather', input: { city: 'hello' } });

    const second = await bedrock().send(
      new ConverseCommand({
        ...converse,
        toolConfig,
        messages: [
          ...converse.messages,
          { role: 'assistant', content: [{ toolUse }] },
          {
            role: 'user',
            content: [{ toolResult: { toolUseId: toolUse?.toolUseId, content: [{ text: '21' }] } }],
          },
        ] as never,
      }),
    );
    expect(second.output?.message?.content).toEqual([{ text: mockOutputText(5) }]);
  });
});

describe('ConverseStream', () => {
  it('streams event-stream messages with usage only in metadata', async () => {
    mock.configure({ reasoningTokens: 2 });
    const output = await bedrock().send(
      new ConverseStreamCommand({
        ...converse,
        additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
      }),
    );
    const events: ConverseStreamOutput[] = [];
    for await (const event of output.stream ?? []) events.push(event);

    const kinds = events.map((event) => Object.keys(event).find((key) => key !== '$unknown'));
    expect(kinds[0]).toBe('messageStart');
    expect(kinds.slice(-2)).toEqual(['messageStop', 'metadata']);
    const text = events.map((event) => event.contentBlockDelta?.delta?.text ?? '').join('');
    const thinking = events
      .map((event) => event.contentBlockDelta?.delta?.reasoningContent?.text ?? '')
      .join('');
    expect(text).toBe(mockOutputText(5));
    expect(thinking).toBe(mockOutputText(2));
    expect(events.filter((event) => JSON.stringify(event).includes('Tokens'))).toHaveLength(1);
    expect(events.at(-1)?.metadata?.usage).toEqual({
      inputTokens: INPUT_TOKENS,
      outputTokens: 7,
      totalTokens: INPUT_TOKENS + 7,
    });
    expect(mock.requests()[0]).toMatchObject({
      endpoint: 'converse',
      stream: true,
      httpVersion: '2.0',
      completed: true,
      billed: { outputTokens: 7, reasoningOutputTokens: 2 },
    });
  });
});

describe('InvokeModel', () => {
  it('answers Anthropic bodies with usage in the body and token-count headers', async () => {
    const client = bedrock();
    const headers = captureHeaders(client);
    const output = await client.send(
      new InvokeModelCommand({
        modelId,
        body: JSON.stringify({
          anthropic_version: 'bedrock-2023-05-31',
          max_tokens: 100,
          system: 'You are terse.',
          messages: [{ role: 'user', content: 'Say hello to the mock provider' }],
        }),
      }),
    );
    const body = JSON.parse(Buffer.from(output.body).toString('utf8'));

    expect(body).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: mockOutputText(5) }],
      stop_reason: 'end_turn',
      usage: { input_tokens: INPUT_TOKENS, output_tokens: 5 },
    });
    expect(headers['x-amzn-bedrock-input-token-count']).toBe(String(INPUT_TOKENS));
    expect(headers['x-amzn-bedrock-output-token-count']).toBe('5');
    expect(mock.requests()[0]).toMatchObject({ endpoint: 'invoke_model', billed: { outputTokens: 5 } });
  });

  it('answers Nova bodies, capped by inferenceConfig.max_new_tokens', async () => {
    const output = await bedrock().send(
      new InvokeModelCommand({
        modelId: 'us.amazon.nova-lite-v1:0',
        body: JSON.stringify({
          schemaVersion: 'messages-v1',
          messages: [{ role: 'user', content: [{ text: 'one two' }] }],
          inferenceConfig: { max_new_tokens: 3 },
        }),
      }),
    );
    const body = JSON.parse(Buffer.from(output.body).toString('utf8'));
    expect(body).toMatchObject({
      output: { message: { role: 'assistant', content: [{ text: mockOutputText(3) }] } },
      stopReason: 'max_tokens',
      usage: { inputTokens: 8, outputTokens: 3, totalTokens: 11 },
    });
  });

  it('answers Llama bodies with prompt_token_count and generation_token_count', async () => {
    const client = bedrock();
    const headers = captureHeaders(client);
    const output = await client.send(
      new InvokeModelCommand({
        modelId: 'meta.llama3-3-70b-instruct-v1:0',
        contentType: 'application/json',
        body: JSON.stringify({ prompt: 'one two three', max_gen_len: 4 }),
      }),
    );
    const body = JSON.parse(Buffer.from(output.body).toString('utf8'));
    expect(body).toEqual({
      generation: mockOutputText(4),
      prompt_token_count: 3,
      generation_token_count: 4,
      stop_reason: 'length',
    });
    expect(headers['x-amzn-bedrock-output-token-count']).toBe('4');
  });

  it('answers Mistral bodies, usage only in the headers', async () => {
    const client = bedrock();
    const headers = captureHeaders(client);
    const output = await client.send(
      new InvokeModelCommand({
        modelId: 'mistral.mistral-large-2402-v1:0',
        body: JSON.stringify({ prompt: '<s>[INST] one two [/INST]', max_tokens: 50 }),
      }),
    );
    expect(JSON.parse(Buffer.from(output.body).toString('utf8'))).toEqual({
      outputs: [{ text: mockOutputText(5), stop_reason: 'stop' }],
    });
    expect(headers['x-amzn-bedrock-input-token-count']).toBe('4');
  });

  it('rejects keys the model does not take with a ValidationException', async () => {
    const error = await bedrock()
      .send(
        new InvokeModelCommand({
          modelId,
          body: JSON.stringify({
            anthropic_version: 'bedrock-2023-05-31',
            model: 'claude',
            max_tokens: 10,
            messages: [{ role: 'user', content: 'hi' }],
          }),
        }),
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationException);
    expect((error as Error).message).toContain('extraneous key [model]');
    expect(mock.requests()[0]?.status).toBe(400);
  });
});

describe('InvokeModelWithResponseStream', () => {
  const decode = (bytes: Uint8Array | undefined) => JSON.parse(Buffer.from(bytes ?? []).toString('utf8'));

  it('streams Anthropic events as chunks, invocation metrics in the last', async () => {
    const output = await bedrock().send(
      new InvokeModelWithResponseStreamCommand({
        modelId,
        body: JSON.stringify({
          anthropic_version: 'bedrock-2023-05-31',
          max_tokens: 100,
          messages: [{ role: 'user', content: 'one two' }],
        }),
      }),
    );
    const chunks = [];
    for await (const event of output.body ?? []) chunks.push(decode(event.chunk?.bytes));

    expect(chunks[0].type).toBe('message_start');
    expect(chunks.map((chunk) => chunk.type)).not.toContain('ping');
    const text = chunks.map((chunk) => chunk.delta?.text ?? '').join('');
    expect(text).toBe(mockOutputText(5));
    expect(chunks.at(-1)).toMatchObject({
      type: 'message_stop',
      'amazon-bedrock-invocationMetrics': { inputTokenCount: 8, outputTokenCount: 5 },
    });
    expect(mock.requests()[0]).toMatchObject({ stream: true, completed: true, billed: { outputTokens: 5 } });
  });

  it('streams Llama generations with a running generation_token_count', async () => {
    const output = await bedrock().send(
      new InvokeModelWithResponseStreamCommand({
        modelId: 'us.meta.llama3-2-1b-instruct-v1:0',
        body: JSON.stringify({ prompt: 'one two three', max_gen_len: 100 }),
      }),
    );
    const chunks = [];
    for await (const event of output.body ?? []) chunks.push(decode(event.chunk?.bytes));

    expect(chunks.map((chunk) => chunk.generation).join('')).toBe(mockOutputText(5));
    expect(chunks[0]).toMatchObject({ prompt_token_count: 3, generation_token_count: 1 });
    expect(chunks.at(-1)).toMatchObject({
      stop_reason: 'stop',
      'amazon-bedrock-invocationMetrics': { inputTokenCount: 3, outputTokenCount: 5 },
    });
  });
});

describe('CountTokens', () => {
  it('counts a Converse request or an InvokeModel body as they would bill, for free', async () => {
    const client = bedrock();
    const converseCount = await client.send(
      new CountTokensCommand({
        modelId,
        input: { converse: { system: converse.system, messages: converse.messages } },
      }),
    );
    const invokeCount = await client.send(
      new CountTokensCommand({
        modelId,
        input: {
          invokeModel: {
            body: new TextEncoder().encode(
              JSON.stringify({
                anthropic_version: 'bedrock-2023-05-31',
                max_tokens: 10,
                system: 'You are terse.',
                messages: [{ role: 'user', content: 'Say hello to the mock provider' }],
              }),
            ),
          },
        },
      }),
    );

    expect(converseCount.inputTokens).toBe(INPUT_TOKENS);
    expect(invokeCount.inputTokens).toBe(INPUT_TOKENS);
    expect(mock.requests().map((served) => [served.endpoint, served.billed.inputTokens])).toEqual([
      ['count_tokens', 0],
      ['count_tokens', 0],
    ]);
  });
});
