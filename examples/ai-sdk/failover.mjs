// Failover across providers: gpt-4o-mini's circuit opens after its provider fails, and from then on
// the same generateText() calls run on Anthropic's claude-haiku-4-5, registered by its
// provider:model id. The app's call sites never change.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createGuard } from '@tollgate/core';
import { AiSdkInstrumentation } from '@tollgate/instrumentation-ai-sdk';
import { startMockProvider } from '@tollgate/mock-provider';

// Telemetry first; the provider packages are patched by hand below (as a bundled app would), so
// plain `node failover.mjs` needs no loader hook.
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(tracerProvider);

const guard = createGuard({
  budgets: [{ id: 'daily-spend', limit: { usd: 0.05 }, window: 'day', timeZone: 'UTC' }],
  circuitBreakers: [
    { provider: 'openai', model: 'gpt-4o-mini', minCalls: 3, errorRateAbove: 0.5, openMillis: 30_000 },
  ],
  policies: [
    {
      id: 'failover',
      when: { circuitOpen: true },
      action: 'fallback',
      models: { 'gpt-4o-mini': 'anthropic:claude-haiku-4-5' },
    },
  ],
  onDecision: (event) => {
    if (event.type === 'model-fallback')
      console.log(
        `   model-fallback (${event.trigger}): ${event.fromProvider}:${event.fromModel} -> ${event.toProvider}:${event.toModel}`,
      );
  },
});
const instrumentation = new AiSdkInstrumentation({ guard });
const openaiPackage = await import('@ai-sdk/openai');
const anthropicPackage = await import('@ai-sdk/anthropic');
instrumentation.instrument(openaiPackage);
instrumentation.instrument(anthropicPackage);
const { generateText } = await import('ai');

const mock = await startMockProvider({ outputTokens: 12 });
const openai = openaiPackage.createOpenAI({ baseURL: mock.openaiBaseUrl, apiKey: 'not-needed' });
const anthropic = anthropicPackage.createAnthropic({
  baseURL: `${mock.anthropicBaseUrl}/v1`,
  apiKey: 'not-needed',
});
// The substitutes the routing rule may name, by provider:model id.
instrumentation.setConfig({ guard, models: { 'anthropic:claude-haiku-4-5': anthropic('claude-haiku-4-5') } });

console.log(
  'Failover across providers with the Vercel AI SDK, against the bundled mock provider (no API key).',
);
console.log('Circuit: gpt-4o-mini opens after 3 calls with an error rate above 50 %.');
console.log("Rule 'failover': while it is open, gpt-4o-mini calls go to anthropic:claude-haiku-4-5.\n");

mock.inject({ provider: 'openai', status: 503, times: 3 });
for (let call = 1; call <= 6; call++) {
  try {
    const result = await generateText({
      model: openai('gpt-4o-mini'),
      prompt: 'Name a famous toll bridge.',
      maxOutputTokens: 50,
      maxRetries: 0,
    });
    console.log(`call ${call}: answered by ${result.response.modelId}: "${result.text}"`);
  } catch (error) {
    console.log(`call ${call}: failed: ${error.name} (${error.statusCode ?? 'no status'})`);
  }
}

await mock.whenIdle();
await new Promise((resolve) => setTimeout(resolve, 20));
console.log('\nThe Tollgate span of each call:');
for (const span of spans.getFinishedSpans()) {
  const a = span.attributes;
  const from = a['tollgate.fallback.from_model']
    ? `  (asked for ${a['tollgate.fallback.from_provider']}:${a['tollgate.fallback.from_model']})`
    : '';
  console.log(
    `   ${span.name}  gen_ai.provider.name=${a['gen_ai.provider.name']}${from}  error.type=${a['error.type'] ?? '-'}`,
  );
}
const served = mock.requests().map((request) => `${request.provider}:${request.status}`);
console.log(`\nThe mock provider served: ${served.join(', ')}`);
const [status] = await guard.budgetStatus('daily-spend');
console.log(
  `Budget "daily-spend": $${status.spent.toFixed(6)} spent, $${status.reserved.toFixed(6)} still reserved.`,
);

await mock.close();
await guard.close();
await tracerProvider.shutdown();
