// Loaded with `node --import` before the app: the gate (guard + AI SDK instrumentation) and an
// OpenTelemetry tracer provider that keeps finished spans in memory, so the app can print them.
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
import { AiSdkInstrumentation } from '@tollgate/instrumentation-ai-sdk';

// ESM: the provider packages are patched as they are imported, so the hook goes in before the app's imports run.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

export const spans = new InMemorySpanExporter();
export const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(tracerProvider);

export const guard = createGuard({
  budgets: [{ id: 'daily-spend', limit: { usd: 0.05 }, window: 'day', timeZone: 'UTC' }],
});
registerInstrumentations({ instrumentations: [new AiSdkInstrumentation({ guard })] });
