// Loaded with `node --import` by each worker process: a guard whose budget lives in Redis, shared
// by every process that uses the same Redis and key prefix, and the openai instrumentation.
import { register } from 'node:module';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { createGuard } from '@tollgate/core';
import { OpenAIInstrumentation } from '@tollgate/instrumentation-openai';
import { createRedisLedger } from '@tollgate/redis';

// ESM: the SDK is patched as it is imported, so the hook goes in before the app's imports run.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
// Ties each HTTP attempt (SDK retries, provider rate-limit headers) to its gated call.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

export const guard = createGuard({
  budgets: [{ id: 'team-daily', limit: { usd: 0.02 }, window: 'day', timeZone: 'UTC' }],
  ledger: createRedisLedger({ url: process.env.TOLLGATE_REDIS_URL, keyPrefix: 'tollgate-example' }),
});
registerInstrumentations({ instrumentations: [new OpenAIInstrumentation({ guard })] });
