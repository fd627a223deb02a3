import {
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
  CountTokensCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bedrockClients } from './bedrock-test-support';
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
