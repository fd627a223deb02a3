// Loaded with `node --import` before the app: the gate (guard with a response cache + openai
// instrumentation) and an OpenTelemetry tracer provider that keeps finished spans in memory, so
// the app can print them.
import { register } from 'node:module';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createGuard } from '@tollgate/core';
import { OpenAIInstrumentation } from '@tollgate/instrumentation-openai';

// ESM: the SDK is patched as it is imported, so the hook goes in before the app's imports run.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

export const spans = new InMemorySpanExporter();
export const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(tracerProvider);

export const guard = createGuard({
  budgets: [{ id: 'daily-spend', limit: { usd: 1 }, window: 'day', timeZone: 'UTC' }],
  // Answers to the FAQ feature are the same for everyone for ten minutes; nothing else is cached.
  cache: { rules: [{ id: 'faq', match: { feature: 'faq' }, ttlMillis: 600_000 }] },
});
registerInstrumentations({ instrumentations: [new OpenAIInstrumentation({ guard })] });
