// Loaded with `node --import` before the app: the guard and the openai instrumentation. Budgets and
// the rate limit are per tenant; the tenant comes from withScope() in the request handler.
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
  budgets: [{ id: 'tenant-daily', per: ['tenant'], limit: { usd: 0.004 }, window: 'day', timeZone: 'UTC' }],
  rateLimits: [
    // Each tenant gets its own bucket: 3 requests at once, then 4 a second. Hardly any queueing in a
    // request handler — a call that does not fit soon is refused, and the client told when to retry.
    {
      provider: 'openai',
      model: 'gpt-4o-mini',
      per: ['tenant'],
      rpm: 240,
      burstRequests: 3,
      maxWaitMillis: 100,
    },
  ],
  policies: [
    // Trial tenants stop at half their budget, before they can spend all of it.
    {
      id: 'trial-half-budget',
      when: { budget: 'tenant-daily', usedAbove: 0.5 },
      action: 'reject',
      match: { tenant: 'initech' },
    },
  ],
});
registerInstrumentations({ instrumentations: [new OpenAIInstrumentation({ guard })] });
