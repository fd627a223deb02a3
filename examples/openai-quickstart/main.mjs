// Tollgate in two lines: register() before the openai SDK is loaded, then plain SDK calls.
import { BudgetExceededError } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import { register } from '@tollgate/node';
import { startStandInCollector } from './stand-in-collector.mjs';

const collector = await startStandInCollector();
const mock = await startMockProvider({ outputTokens: 60 });

// ── The two lines ───────────────────────────────────────────────────────────────────────────────
const tollgate = register({
  serviceName: 'openai-quickstart',
  guard: { budgets: [{ id: 'daily-spend', limit: { usd: 0.003 }, window: 'day', timeZone: 'UTC' }] },
});
// ────────────────────────────────────────────────────────────────────────────────────────────────

// The SDK is imported after register() so the loader hook patches it. In an app, put the two lines
// in their own file and start with `node --import ./tollgate.mjs app.mjs`; imports then stay static.
const { default: OpenAI } = await import('openai');
const openai = new OpenAI({ apiKey: 'not-needed', baseURL: mock.openaiBaseUrl, maxRetries: 0 });

const usd = (value) => `$${value.toFixed(6)}`;
let lastReservedUsd;
tollgate.guard.onDecision((event) => {
  if (event.type === 'allowed') lastReservedUsd = event.estimatedCostUsd;
});

console.log('Tollgate quickstart — the openai SDK gated by register(), against the bundled mock provider');
console.log('(no API key, nothing leaves this machine). Every cost is an estimate from the price table.\n');
console.log('Budget "daily-spend": $0.003 a day. Each call asks gpt-4o for up to 100 tokens.\n');

const questions = [
  'How do I reset my password?',
  'Can I change the email on my account?',
  'Why was my card declined?',
  'Do you ship to Norway?',
  'How do I cancel my plan?',
  'Where is my invoice?',
];
let refusedAt;
for (const [index, question] of questions.entries()) {
  const servedBefore = mock.requests().length;
  try {
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o',
      max_tokens: 100,
      messages: [{ role: 'user', content: question }],
    });
    const [status] = await tollgate.guard.budgetStatus('daily-spend');
    console.log(
      `call ${index + 1}  sent     reserved ${usd(lastReservedUsd)} worst case, used ` +
        `${completion.usage.prompt_tokens} in / ${completion.usage.completion_tokens} out → budget ` +
        `${usd(status.spent)} of ${usd(status.limit)} spent`,
    );
  } catch (error) {
    if (!BudgetExceededError.isInstance(error)) throw error;
    refusedAt = index + 1;
    const minutes = Math.round(error.retryAfterMs / 60_000);
    console.log(
      `call ${index + 1}  REFUSED  BudgetExceededError before sending: spent ${usd(error.spent)} + ` +
        `requested ${usd(error.requested)} > limit ${usd(error.limit)} (retry in ${minutes} min, at the UTC day's end)`,
    );
    console.log(
      `        requests the mock provider received for this call: ${mock.requests().length - servedBefore}`,
    );
    break;
  }
}

console.log(
  `\nThe mock provider served ${mock.requests().length} requests; call ${refusedAt} was refused by the gate and never reached it.`,
);

// Flush: register() exports spans and metrics over OTLP/HTTP (it also does this by itself on exit).
await tollgate.shutdown();
await mock.close();
if (collector) {
  const spans = collector.spans();
  console.log(
    `\nregister() exported ${spans.length} spans over OTLP/HTTP to the stand-in collector at ${collector.url}:`,
  );
  for (const span of spans) {
    const a = span.attributes;
    console.log(
      `  ${span.name.padEnd(12)} tollgate.gate.decision=${String(a['tollgate.gate.decision']).padEnd(16)}` +
        ` tollgate.cost.estimated_usd=${a['tollgate.cost.estimated_usd']?.toFixed(6) ?? '-'}` +
        ` tollgate.cost.reconciled_usd=${a['tollgate.cost.reconciled_usd']?.toFixed(6) ?? '-'}`,
    );
  }
  const metricNames = collector.metricNames().filter((name) => name.startsWith('tollgate.'));
  console.log(`and metrics including ${metricNames.join(', ')}.`);
  await collector.close();
} else {
  console.log(
    `\nSpans and metrics were exported over OTLP/HTTP to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}.`,
  );
}
