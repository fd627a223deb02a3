// Loaded with `node --import` before the app: the gate (guard + openai instrumentation) and a tracer
// provider that keeps finished spans in memory, so the app can show what the spans recorded.
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

export const decisions = [];

export const guard = createGuard({
  loops: [
    // The same request at most 3 times a minute per tenant: a retry loop stops at the 4th.
    { id: 'retry-storm', maxIdentical: 3, windowMillis: 60_000, per: ['tenant'] },
    // At most 5 model calls per agent turn per tenant, however long the history grows.
    { id: 'agent-steps', maxIdentical: 5, windowMillis: 600_000, per: ['tenant'], repeats: 'same-turn' },
  ],
  budgets: [
    // A spend rate: no tenant spends more than $0.002 in any 60 seconds (an estimate).
    { id: 'tenant-spend-rate', limit: { usd: 0.002 }, window: { rollingMillis: 60_000 }, per: ['tenant'] },
  ],
  onDecision: (event) => {
    if (event.type === 'loop-detected' || event.type === 'budget-exceeded') decisions.push(event);
  },
});
registerInstrumentations({ instrumentations: [new OpenAIInstrumentation({ guard })] });
