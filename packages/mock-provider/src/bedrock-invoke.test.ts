import {
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bedrockClients, captureHeaders } from './bedrock-test-support';
import { type MockProvider, startMockProvider } from './mock-provider';
import { mockOutputText } from './token-scheme';

let mock: MockProvider;
const clients = bedrockClients(() => mock.url);
const bedrock = clients.create;

beforeAll(async () => {
  mock = await startMockProvider({ outputTokens: 5 });
});
afterEach(async () => {
  await mock.whenIdle();
  mock.reset();
  mock.configure({ outputTokens: 5, reasoningTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 });
});
afterAll(async () => {
  clients.destroyAll();
  await mock.close();
});

const modelId = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
// system 3+3, one message 3+6, priming 3
const INPUT_TOKENS = 18;

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

  it('streams Nova events with usage in metadata and invocation metrics in the last chunk', async () => {
    mock.configure({ cacheReadInputTokens: 2 });
    const output = await bedrock().send(
      new InvokeModelWithResponseStreamCommand({
        modelId: 'us.amazon.nova-pro-v1:0',
        body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'one two' }] }] }),
      }),
    );
    const chunks = [];
    for await (const event of output.body ?? []) chunks.push(decode(event.chunk?.bytes));

    expect(Object.keys(chunks[0])).toEqual(['messageStart']);
    expect(chunks.map((chunk) => chunk.contentBlockDelta?.delta.text ?? '').join('')).toBe(mockOutputText(5));
    expect(chunks.at(-1)).toMatchObject({
      metadata: { usage: { inputTokens: 6, outputTokens: 5, cacheReadInputTokenCount: 2 } },
      'amazon-bedrock-invocationMetrics': {
        inputTokenCount: 6,
        outputTokenCount: 5,
        cacheReadInputTokenCount: 2,
      },
    });
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

describe('model ids', () => {
  it('answers an application inference profile ARN by the shape of the body', async () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6';
    const output = await bedrock().send(
      new InvokeModelCommand({ modelId: arn, body: JSON.stringify({ prompt: 'one two', max_gen_len: 3 }) }),
    );
    expect(JSON.parse(Buffer.from(output.body).toString('utf8'))).toMatchObject({
      generation: mockOutputText(3),
      generation_token_count: 3,
    });
    expect(mock.requests()[0]?.model).toBe(arn);
  });
});
