import {
  type BedrockRuntimeClient,
  ConverseCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { BudgetExceededError, createGuard, type Guard, type GuardConfig } from '@tollgate/core';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BedrockInstrumentation } from './instrumentation';
import { type InstrumentedSdk, instrumentSdk, mockClients, uninstrumentSdk } from './test-support';

const SCOPE = '@tollgate/instrumentation-bedrock';

let mock: MockProvider;
let harness: InstrumentedSdk['harness'];
let instrumentation: BedrockInstrumentation;
let guard: Guard;
let client: BedrockRuntimeClient;
const clients = mockClients(() => mock);

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  clients.destroyAll();
  await mock.close();
});
beforeEach(() => {
  ({ harness, instrumentation } = instrumentSdk());
  useGuard();
  mock.reset();
  mock.configure({ outputTokens: 9, chunkDelayMillis: 0, latencyMillis: 0, cacheReadInputTokens: 0 });
  client = clients.create();
});
afterEach(async () => {
  await uninstrumentSdk({ harness, instrumentation }, guard);
});

function useGuard(config: GuardConfig = {}): void {
  guard = createGuard({ estimator: { anthropicSafetyFactor: 1 }, ...config });
  instrumentation.setConfig({ guard });
}

async function settled(): Promise<void> {
  await mock.whenIdle();
  await new Promise((resolve) => setTimeout(resolve, 5));
}

function onlySpan(): ReadableSpan {
  const found = harness.spans.getFinishedSpans().filter((span) => span.instrumentationScope.name === SCOPE);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const tokenBudget = { budgets: [{ id: 'day', limit: { tokens: 1_000_000 }, window: 'day' as const }] };

/** One body per model family, as each model reads it. */
const BODIES = {
  anthropic: {
    modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    body: {
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 40,
      messages: [{ role: 'user', content: 'Say hello to the mock provider' }],
    },
    operation: 'chat',
  },
  nova: {
    modelId: 'us.amazon.nova-lite-v1:0',
    body: {
      schemaVersion: 'messages-v1',
      messages: [{ role: 'user', content: [{ text: 'one two three' }] }],
    },
    operation: 'chat',
  },
  llama: {
    modelId: 'meta.llama3-1-8b-instruct-v1:0',
    body: { prompt: '<|begin_of_text|>Say hello', max_gen_len: 30 },
    operation: 'text_completion',
  },
  mistral: {
    modelId: 'mistral.mistral-7b-instruct-v0:2',
    body: { prompt: '<s>[INST] Say hello [/INST]', max_tokens: 30 },
    operation: 'text_completion',
  },
} as const;

describe.each(Object.entries(BODIES))('BedrockInstrumentation — InvokeModel, %s body', (_family, family) => {
  it('settles to the usage Bedrock reports, priced as the base model', async () => {
    useGuard(tokenBudget);
    const output = await client.send(
      new InvokeModelCommand({ modelId: family.modelId, body: JSON.stringify(family.body) }),
    );
    await settled();
    expect(output.body.length).toBeGreaterThan(0);
    const billed = mock.billed();
    const span = onlySpan();
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': family.operation,
      'gen_ai.request.model': family.modelId,
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.output_tokens': billed.outputTokens,
      'tollgate.usage.source': 'provider',
    });
    expect(span.attributes['tollgate.price.model']).toBe(family.modelId.replace(/^us\./, ''));
    expect((await guard.budgetStatus('day'))[0]).toMatchObject({
      spent: billed.inputTokens + billed.outputTokens,
      reserved: 0,
    });
  });

  it('settles a response stream from the last chunk’s invocation metrics, every chunk handed on', async () => {
    useGuard(tokenBudget);
    const output = await client.send(
      new InvokeModelWithResponseStreamCommand({
        modelId: family.modelId,
        body: new TextEncoder().encode(JSON.stringify(family.body)),
      }),
    );
    let chunks = 0;
    for await (const event of output.body ?? []) if (event.chunk?.bytes) chunks++;
    await settled();
    expect(chunks).toBeGreaterThan(1);
    const billed = mock.billed();
    expect(onlySpan().attributes).toMatchObject({
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.output_tokens': billed.outputTokens,
      'tollgate.usage.source': 'provider',
    });
  });
});

describe('BedrockInstrumentation — InvokeModel bodies and caps', () => {
  it('reads the token-count headers: a Mistral body reports no usage of its own', async () => {
    useGuard(tokenBudget);
    const output = await client.send(
      new InvokeModelCommand({ modelId: BODIES.mistral.modelId, body: JSON.stringify(BODIES.mistral.body) }),
    );
    await settled();
    expect(JSON.parse(new TextDecoder().decode(output.body))).not.toHaveProperty('usage');
    const billed = mock.billed();
    expect(onlySpan().attributes).toMatchObject({
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.output_tokens': 9,
      'tollgate.usage.source': 'provider',
    });
  });

  it('counts cache reads as input', async () => {
    useGuard(tokenBudget);
    mock.configure({ cacheReadInputTokens: 3 });
    await client.send(
      new InvokeModelCommand({ modelId: BODIES.nova.modelId, body: JSON.stringify(BODIES.nova.body) }),
    );
    await settled();
    const billed = mock.billed();
    expect(onlySpan().attributes).toMatchObject({
      'gen_ai.usage.input_tokens': billed.inputTokens,
      'gen_ai.usage.cache_read.input_tokens': 3,
    });
  });

  it('writes the cap into the model’s own field only when the reservation assumed one, keeping the body otherwise', async () => {
    useGuard({ ...tokenBudget, defaultMaxOutputTokens: 5 });
    const novaBody = JSON.stringify(BODIES.nova.body);
    const llamaBody = JSON.stringify({ prompt: 'Say hello' });
    const anthropicBody = JSON.stringify(BODIES.anthropic.body);
    const command = new InvokeModelCommand({ modelId: BODIES.nova.modelId, body: novaBody });
    await client.send(command);
    await client.send(new InvokeModelCommand({ modelId: BODIES.llama.modelId, body: llamaBody }));
    await client.send(new InvokeModelCommand({ modelId: BODIES.anthropic.modelId, body: anthropicBody }));
    await settled();
    const [nova, llama, anthropic] = mock
      .requests()
      .map((request) => request.body as Record<string, unknown>);
    expect(nova!.inferenceConfig).toEqual({ max_new_tokens: 5 });
    // Llama's max_gen_len defaults to 512, which bounds the reservation: nothing is injected.
    expect(llama!.max_gen_len).toBeUndefined();
    expect(anthropic!.max_tokens).toBe(40);
    expect(mock.requests()[0]!.billed.outputTokens).toBe(5);
    expect(command.input.body).toBe(novaBody);
  });

  it('refuses before sending when the reservation does not fit, whatever the body format', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { tokens: 100 }, window: 'day' }] });
    await expect(
      client.send(
        new InvokeModelCommand({
          modelId: BODIES.llama.modelId,
          body: JSON.stringify({ prompt: 'hi', max_gen_len: 2_000 }),
        }),
      ),
    ).rejects.toBeInstanceOf(BudgetExceededError);
    expect(mock.requests()).toHaveLength(0);
  });

  it('sends bodies it cannot read untouched and ungated, and says so once per model', async () => {
    useGuard({ budgets: [{ id: 'day', limit: { tokens: 1 }, window: 'day' }] });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const output = await client
      .send(
        new InvokeModelCommand({
          modelId: 'cohere.command-r-v1:0',
          body: JSON.stringify({ message: 'hello' }),
        }),
      )
      .catch((error: unknown) => error);
    expect(BudgetExceededError.isInstance(output)).toBe(false);
    expect(mock.requests()).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.map((warning) => (warning as { code?: string }).code)).toEqual(['TOLLGATE_UNGATED_CALL']);
    expect(warnings[0]!.message).toContain('cohere.command-r-v1:0');
  });
});

describe('BedrockInstrumentation — concurrent callers', () => {
  it('never overshoots a token budget under 64 concurrent Converse and InvokeModel calls', async () => {
    const limit = 3_000;
    useGuard({ budgets: [{ id: 'day', limit: { tokens: limit }, window: 'day' }] });
    mock.configure({ outputTokens: 200 });
    const converse = {
      modelId: BODIES.nova.modelId,
      messages: [{ role: 'user' as const, content: [{ text: 'Write a long story' }] }],
      inferenceConfig: { maxTokens: 150 },
    };
    const outcomes = await Promise.all(
      Array.from({ length: 64 }, (_, index) =>
        (index % 2 === 0
          ? client.send(new ConverseCommand(converse))
          : client.send(
              new InvokeModelCommand({
                modelId: BODIES.llama.modelId,
                body: JSON.stringify({ prompt: 'Write a long story', max_gen_len: 150 }),
              }),
            )
        ).then(
          () => 'sent',
          (error: unknown) => (BudgetExceededError.isInstance(error) ? 'refused' : error),
        ),
      ),
    );
    await settled();
    expect(outcomes.filter((outcome) => outcome !== 'sent' && outcome !== 'refused')).toEqual([]);
    const sent = outcomes.filter((outcome) => outcome === 'sent').length;
    expect(sent).toBeGreaterThan(5);
    expect(mock.requests()).toHaveLength(sent);
    const billed = mock.billed();
    const [status] = await guard.budgetStatus('day');
    expect(status).toMatchObject({ reserved: 0, spent: billed.inputTokens + billed.outputTokens });
    expect(status!.spent).toBeLessThanOrEqual(limit);
  });
});
