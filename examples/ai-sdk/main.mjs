// Vercel AI SDK calls through the gate. The app code is plain `ai` with @ai-sdk/openai and
// @ai-sdk/anthropic; the gate and the in-memory span exporter come from telemetry.mjs (node --import).
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { BudgetExceededError } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { guard, spans, tracerProvider } from './telemetry.mjs';

const mock = await startMockProvider({ outputTokens: 40, chunkDelayMillis: 2, toolCalls: 'when-offered' });
const openai = createOpenAI({ baseURL: mock.openaiBaseUrl, apiKey: 'not-needed' });
const anthropic = createAnthropic({ baseURL: `${mock.anthropicBaseUrl}/v1`, apiKey: 'not-needed' });

console.log('The Vercel AI SDK through Tollgate, against the bundled mock provider (no API key).');
console.log('Budget "daily-spend": $0.05 a day. Every cost is an estimate from the bundled price table.\n');

console.log(
  '1) streamText() on openai("gpt-4o-mini") — parts pass untouched, the call settles from the finish part:',
);
const stream = streamText({
  model: openai('gpt-4o-mini'),
  prompt: 'Describe a toll bridge at dawn in one paragraph.',
  maxOutputTokens: 300,
});
let deltas = 0;
for await (const _ of stream.textStream) deltas++;
const usage = await stream.usage;
console.log(
  `   ${deltas} text deltas; the finish part's usage: ${usage.inputTokens} input / ${usage.outputTokens} output tokens`,
);

console.log(
  '\n2) generateText() with a tool on anthropic("claude-haiku-4-5"), AI SDK telemetry on — each step is gated:',
);
const toll = tool({
  description: 'The toll for a bridge',
  inputSchema: z.object({ bridge: z.string() }),
  execute: async ({ bridge }) => ({ bridge, usd: 7 }),
});
const loop = await generateText({
  model: anthropic('claude-haiku-4-5'),
  prompt: 'What is the toll on the Golden Gate Bridge?',
  maxOutputTokens: 200,
  tools: { toll },
  stopWhen: stepCountIs(4),
  experimental_telemetry: { isEnabled: true, functionId: 'toll-question' },
});
console.log(`   ${loop.steps.length} steps, ${loop.steps.length} gated model calls`);

console.log(
  '\n3) generateText() on openai("gpt-4o") with no maxOutputTokens — its worst case breaks the budget:',
);
const servedBefore = mock.requests().length;
try {
  await generateText({ model: openai('gpt-4o'), prompt: 'Write the complete history of toll roads.' });
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
await new Promise((resolve) => setTimeout(resolve, 20));
const finished = spans.getFinishedSpans();
console.log(
  "\nThe tool loop's spans: Tollgate's CLIENT span sits under each step's ai.generateText.doGenerate:",
);
const byId = new Map(finished.map((span) => [span.spanContext().spanId, span]));
const parentOf = (span) => byId.get(span.parentSpanContext?.spanId ?? span.parentSpanId);
const printTree = (span, depth) => {
  console.log(`   ${'  '.repeat(depth)}${span.name}`);
  const children = finished
    .filter((child) => parentOf(child) === span)
    .sort((a, b) => startOf(a) - startOf(b));
  for (const child of children) printTree(child, depth + 1);
};
printTree(
  finished.find((span) => span.name === 'ai.generateText'),
  0,
);

console.log('\nThe Tollgate span of each call (read back from the in-memory span exporter):');
for (const span of finished.filter((s) => s.attributes['tollgate.gate.decision'])) {
  const a = span.attributes;
  console.log(`   ${span.name}  tollgate.gate.decision=${a['tollgate.gate.decision']}`);
  console.log(
    `      gen_ai.usage.input_tokens=${a['gen_ai.usage.input_tokens'] ?? '-'}  gen_ai.usage.output_tokens=${a['gen_ai.usage.output_tokens'] ?? '-'}` +
      `  tollgate.usage.source=${a['tollgate.usage.source'] ?? '-'}`,
  );
}
const billed = mock.billed();
console.log(
  `   (the mock provider billed ${billed.inputTokens} / ${billed.outputTokens} tokens in ${billed.requests} requests)`,
);

const [status] = await guard.budgetStatus('daily-spend');
console.log(
  `\nBudget "daily-spend": ${usd(status.spent)} spent, ${usd(status.reserved)} still reserved — every call settled to its usage.`,
);

await mock.close();
await guard.close();
await tracerProvider.shutdown();

function startOf(span) {
  return span.startTime[0] * 1e9 + span.startTime[1];
}

function usd(value) {
  return value === undefined ? 'n/a' : `$${value.toFixed(6)}`;
}
