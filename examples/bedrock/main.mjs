// Bedrock Runtime calls through the gate. The app code is plain @aws-sdk/client-bedrock-runtime;
// the gate and the in-memory span exporter come from telemetry.mjs (node --import).
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { BudgetExceededError } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import { guard, spans, tracerProvider } from './telemetry.mjs';

const mock = await startMockProvider({ outputTokens: 40, chunkDelayMillis: 4 });
const bedrock = new BedrockRuntimeClient({
  endpoint: mock.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'not-needed', secretAccessKey: 'not-needed' },
  maxAttempts: 1,
});
// A cross-region inference profile: resolved to the priced anthropic.claude-haiku-4-5 model.
const modelId = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const ask = (text) => [{ role: 'user', content: [{ text }] }];

console.log('Amazon Bedrock through Tollgate, against the bundled mock provider (no AWS account).');
console.log('Budget "daily-spend": $0.05 a day. Every cost is an estimate from the bundled price table.\n');

console.log(`1) ConverseCommand on ${modelId}:`);
const reply = await bedrock.send(
  new ConverseCommand({
    modelId,
    messages: ask('How do I reset my password?'),
    inferenceConfig: { maxTokens: 300 },
  }),
);
console.log(
  `   usage: ${reply.usage.inputTokens} input / ${reply.usage.outputTokens} output tokens (what gets settled)`,
);

console.log('\n2) ConverseStreamCommand — events pass untouched, settled from the final metadata event:');
const { stream } = await bedrock.send(
  new ConverseStreamCommand({
    modelId,
    messages: ask('Describe a toll bridge at dawn in one paragraph.'),
    inferenceConfig: { maxTokens: 300 },
  }),
);
let deltas = 0;
for await (const event of stream) {
  if (event.contentBlockDelta) deltas++;
  else if (event.metadata)
    console.log(
      `   ${deltas} contentBlockDelta events, then metadata usage: ${event.metadata.usage.inputTokens} input / ${event.metadata.usage.outputTokens} output`,
    );
}

const opus = 'us.anthropic.claude-opus-4-1-20250805-v1:0';
console.log(`\n3) ConverseCommand on ${opus} with maxTokens 32,000 — its worst case breaks the budget:`);
const servedBefore = mock.requests().length;
try {
  await bedrock.send(
    new ConverseCommand({
      modelId: opus,
      messages: ask('Write the complete history of toll roads.'),
      inferenceConfig: { maxTokens: 32_000 },
    }),
  );
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
  `\nBudget "daily-spend": ${usd(status.spent)} spent, ${usd(status.reserved)} still reserved — both calls settled to their usage.`,
);

await mock.close();
await guard.close();
await tracerProvider.shutdown();
bedrock.destroy();

function usd(value) {
  return value === undefined ? 'n/a' : `$${value.toFixed(6)}`;
}
