// Streamed Claude calls through the gate. The app code is plain @anthropic-ai/sdk; the gate and the
// in-memory span exporter come from telemetry.mjs (node --import).
import Anthropic from '@anthropic-ai/sdk';
import { startMockProvider } from '@tollgate/mock-provider';
import { guard, spans, tracerProvider } from './telemetry.mjs';

const mock = await startMockProvider({ outputTokens: 40, chunkDelayMillis: 4 });
const anthropic = new Anthropic({ apiKey: 'not-needed', baseURL: mock.anthropicBaseUrl, maxRetries: 0 });
const model = 'claude-haiku-4-5';

console.log('Anthropic streaming through Tollgate, against the bundled mock provider (no API key).');
console.log('Every cost is an estimate from the bundled price table.\n');

console.log('1) messages.stream() — the helper the SDK recommends; text is printed as it arrives:');
const helper = anthropic.messages.stream({
  model,
  max_tokens: 300,
  messages: [{ role: 'user', content: 'Describe a toll bridge at dawn in one paragraph.' }],
});
process.stdout.write('   > ');
helper.on('text', (delta) => process.stdout.write(delta));
const message = await helper.finalMessage();
console.log(
  `\n   finalMessage().usage: ${message.usage.input_tokens} input / ${message.usage.output_tokens} output tokens`,
);

console.log('\n2) messages.create({ stream: true }) — raw server-sent events:');
const stream = await anthropic.messages.create({
  model,
  max_tokens: 200,
  stream: true,
  messages: [{ role: 'user', content: 'List three things a toll booth operator sees every day.' }],
});
let deltas = 0;
for await (const event of stream) {
  if (event.type === 'message_start') {
    const { input_tokens, output_tokens } = event.message.usage;
    console.log(
      `   message_start  usage: ${input_tokens} input / ${output_tokens} output (output is a placeholder)`,
    );
  } else if (event.type === 'content_block_delta') deltas++;
  else if (event.type === 'message_delta') {
    console.log(`   ${deltas} content_block_delta events`);
    console.log(
      `   message_delta  usage: ${event.usage.output_tokens} output (running total: this is what gets settled)`,
    );
  } else if (event.type === 'message_stop') console.log('   message_stop');
}

console.log('\n3) A stream the caller leaves after five text deltas (break): settled for what arrived:');
const abandoned = await anthropic.messages.create({
  model,
  max_tokens: 400,
  stream: true,
  messages: [{ role: 'user', content: 'Tell me a long story about a toll road.' }],
});
let seen = 0;
for await (const event of abandoned) {
  if (event.type === 'content_block_delta' && ++seen === 5) break;
}
console.log(`   left after ${seen} deltas; the SDK aborted the request`);

// Spans end when a stream settles; wait until all three are in the exporter.
await mock.whenIdle();
const gateSpans = await waitForSpans(3);

console.log('\nThe Tollgate span of each call (read back from the in-memory span exporter):');
for (const [index, span] of gateSpans.entries()) {
  const a = span.attributes;
  const billed = mock.requests()[index].billed;
  console.log(`\n   ${index + 1}) ${span.name}`);
  console.log(
    `      gen_ai.usage.input_tokens=${a['gen_ai.usage.input_tokens']}  gen_ai.usage.output_tokens=${a['gen_ai.usage.output_tokens']}` +
      `  (mock provider billed ${billed.inputTokens} / ${billed.outputTokens})`,
  );
  console.log(
    `      tollgate.cost.estimated_usd=${usd(a['tollgate.cost.estimated_usd'])}  (worst case reserved before sending: max_tokens ${a['gen_ai.request.max_tokens']})`,
  );
  console.log(
    `      tollgate.cost.reconciled_usd=${usd(a['tollgate.cost.reconciled_usd'])}  tollgate.cost.delta_usd=${usd(a['tollgate.cost.delta_usd'])}`,
  );
  console.log(
    `      tollgate.usage.source=${a['tollgate.usage.source']}  gen_ai.response.finish_reasons=${JSON.stringify(a['gen_ai.response.finish_reasons'] ?? null)}` +
      (a['tollgate.stream.interrupted'] ? '  tollgate.stream.interrupted=true' : ''),
  );
  if (a['tollgate.usage.source'] === 'local_count')
    console.log(
      '      (no message_delta arrived: output counted locally with a safety factor, never below what was streamed)',
    );
}

const [status] = await guard.budgetStatus('daily-spend');
console.log(
  `\nBudget "daily-spend": ${usd(status.spent)} spent, ${usd(status.reserved)} still reserved — every reservation settled (estimates).`,
);

await mock.close();
await guard.close();
await tracerProvider.shutdown();

function usd(value) {
  if (value === undefined) return 'n/a';
  return `${value < 0 ? '-' : ''}$${Math.abs(value).toFixed(6)}`;
}

async function waitForSpans(count) {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const found = spans
      .getFinishedSpans()
      .filter(
        (span) => span.attributes['gen_ai.provider.name'] === 'anthropic' && span.name.startsWith('chat '),
      )
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
