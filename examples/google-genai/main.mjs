// Gemini calls through the gate. The app code is plain @google/genai; the gate and the in-memory
// span exporter come from telemetry.mjs (node --import).
import { GoogleGenAI } from '@google/genai';
import { BudgetExceededError } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import { guard, spans, tracerProvider } from './telemetry.mjs';

const mock = await startMockProvider({ outputTokens: 40, chunkDelayMillis: 4 });
const ai = new GoogleGenAI({ apiKey: 'not-needed', httpOptions: { baseUrl: mock.url } });

console.log('Gemini through Tollgate, against the bundled mock provider (no API key).');
console.log('Budget "daily-spend": $0.05 a day. Every cost is an estimate from the bundled price table.\n');

console.log('1) models.generateContentStream() on gemini-2.5-flash — chunks pass untouched:');
const stream = await ai.models.generateContentStream({
  model: 'gemini-2.5-flash',
  contents: 'Describe a toll bridge at dawn in one paragraph.',
  config: { maxOutputTokens: 300 },
});
let chunks = 0;
let lastUsage;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usageMetadata) lastUsage = chunk.usageMetadata;
}
console.log(
  `   ${chunks} chunks; the last one's usageMetadata: ${lastUsage.promptTokenCount} prompt / ${lastUsage.candidatesTokenCount} candidates tokens (what gets settled)`,
);

console.log(
  '\n2) generateContent() on gemini-2.5-pro with maxOutputTokens 65,536 — its worst case breaks the budget:',
);
const servedBefore = mock.requests().length;
try {
  await ai.models.generateContent({
    model: 'gemini-2.5-pro',
    contents: 'Write the complete history of toll roads.',
    config: { maxOutputTokens: 65_536 },
  });
  throw new Error('the gate let a call through that breaks the budget');
} catch (error) {
  if (!BudgetExceededError.isInstance(error)) throw error;
  console.log(
    `   REFUSED  BudgetExceededError before sending: spent ${usd(error.spent)} + requested ${usd(error.requested)} > limit ${usd(error.limit)}`,
  );
  console.log(
    `   requests the mock provider received for this call: ${mock.requests().length - servedBefore}`,
  );
}

await mock.whenIdle();
console.log('\nThe Tollgate span of each call (read back from the in-memory span exporter):');
for (const span of spans.getFinishedSpans().filter((s) => s.attributes['tollgate.gate.decision'])) {
  const a = span.attributes;
  console.log(`   ${span.name}  tollgate.gate.decision=${a['tollgate.gate.decision']}`);
  console.log(
    `      gen_ai.usage.input_tokens=${a['gen_ai.usage.input_tokens'] ?? '-'}  gen_ai.usage.output_tokens=${a['gen_ai.usage.output_tokens'] ?? '-'}` +
      `  tollgate.usage.source=${a['tollgate.usage.source'] ?? '-'}`,
  );
  console.log(
    `      tollgate.cost.estimated_usd=${usd(a['tollgate.cost.estimated_usd'])}  tollgate.cost.reconciled_usd=${usd(a['tollgate.cost.reconciled_usd'])}`,
  );
}
const billed = mock.billed();
console.log(`   (the mock provider billed ${billed.inputTokens} / ${billed.outputTokens} tokens in all)`);

const [status] = await guard.budgetStatus('daily-spend');
console.log(
  `\nBudget "daily-spend": ${usd(status.spent)} spent, ${usd(status.reserved)} still reserved — the stream settled to its usage.`,
);

await mock.close();
await guard.close();
await tracerProvider.shutdown();

function usd(value) {
  return value === undefined ? 'n/a' : `$${value.toFixed(6)}`;
}
