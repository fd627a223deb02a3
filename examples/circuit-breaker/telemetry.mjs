// Loaded with `node --import` before the app: the gate with two circuit breakers, and a log of
// every circuit state change.
import { register } from 'node:module';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { createGuard } from '@tollgate/core';
import { OpenAIInstrumentation } from '@tollgate/instrumentation-openai';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const started = Date.now();
export const guard = createGuard({
  circuitBreakers: [
    // Errors: 3 calls in the window, more than half failing, opens for 1 s.
    { provider: 'openai', model: 'gpt-4o-mini', minCalls: 3, errorRateAbove: 0.5, openMillis: 1_000 },
    // Spend: more than $0.02 a minute of estimated spend on gpt-4o opens it — a retry loop's bill stops here.
    { provider: 'openai', model: 'gpt-4o', spendUsdPerMinuteAbove: 0.02 },
  ],
  onDecision: (event) => {
    if (event.type === 'circuit-state') {
      const at = String(Date.now() - started).padStart(5);
      console.log(`${at} ms  circuit ${event.circuitKey}: ${event.from} → ${event.to} (${event.reason})`);
    }
  },
});
registerInstrumentations({ instrumentations: [new OpenAIInstrumentation({ guard })] });
