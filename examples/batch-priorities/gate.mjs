// Loaded with `node --import` before the app: the guard and the openai instrumentation.
// No tracer or meter provider, to keep the output short: add your OpenTelemetry SDK here as usual.
import { register } from 'node:module';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { createGuard } from '@tollgate/core';
import { OpenAIInstrumentation } from '@tollgate/instrumentation-openai';

// ESM: the SDK is patched as it is imported, so the hook goes in before the app's imports run.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
// Ties each HTTP attempt (SDK retries, provider rate-limit headers) to its gated call.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

export const guard = createGuard({
  budgets: [{ id: 'hourly-spend', limit: { usd: 0.01 }, window: { rollingMillis: 3_600_000 } }],
  rateLimits: [
    // Tight on purpose: one gpt-4o-mini request every 250 ms, no burst. Queued calls wait up to 10 s.
    { provider: 'openai', model: 'gpt-4o-mini', rpm: 240, burstRequests: 1, maxWaitMillis: 10_000 },
  ],
  policies: [
    // Past half the hourly budget, background work waits until spend ages out; interactive calls go on.
    { id: 'hold-batch', when: { budget: 'hourly-spend', usedAbove: 0.5 }, action: 'defer' },
  ],
});
registerInstrumentations({ instrumentations: [new OpenAIInstrumentation({ guard })] });
