// A repeated question answered from the response cache. The app code is plain openai; the gate,
// its cache rule and the in-memory span exporter come from telemetry.mjs (node --import).
import { withScope } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import OpenAI from 'openai';
import { guard, spans, tracerProvider } from './telemetry.mjs';

const mock = await startMockProvider({ outputTokens: 40, chunkDelayMillis: 2 });
const client = new OpenAI({ apiKey: 'not-needed', baseURL: mock.openaiBaseUrl, maxRetries: 0 });
const question = {
  model: 'gpt-4o-mini',
  max_tokens: 200,
  messages: [{ role: 'user', content: 'What are the opening hours of the toll bridge?' }],
};

console.log('The response cache, against the bundled mock provider (no API key).');
console.log('Rule "faq": calls with feature=faq are cached for ten minutes; nothing else is.\n');

const served = () => mock.requests().length;
const faq = (fn) => withScope({ feature: 'faq' }, fn);

console.log('1) The same FAQ question three times:');
let firstAnswer;
for (let i = 1; i <= 3; i++) {
  const before = served();
  const completion = await faq(() => client.chat.completions.create(question));
  firstAnswer ??= completion;
  const same = JSON.stringify(completion) === JSON.stringify(firstAnswer);
  console.log(
    `   call ${i}: id ${completion.id}, requests sent: ${served() - before}, same result as call 1: ${same}`,
  );
}

console.log('\n2) A streamed FAQ question twice — the second stream is replayed chunk for chunk:');
const streamed = [];
for (let i = 1; i <= 2; i++) {
  const before = served();
  const chunks = [];
  for await (const chunk of await faq(() => client.chat.completions.create({ ...question, stream: true })))
    chunks.push(chunk);
  streamed.push(JSON.stringify(chunks));
  console.log(`   stream ${i}: ${chunks.length} chunks, requests sent: ${served() - before}`);
}
console.log(`   identical chunks: ${streamed[0] === streamed[1]}`);

console.log('\n3) The same question outside the FAQ feature is not cached:');
const before = served();
await client.chat.completions.create(question);
console.log(`   requests sent: ${served() - before}`);

await mock.whenIdle();
await new Promise((resolve) => setTimeout(resolve, 20));
console.log('\nThe Tollgate span of each call:');
let saved = 0;
for (const span of spans.getFinishedSpans()) {
  const a = span.attributes;
  const hit = a['tollgate.cache.hit'];
  if (typeof a['tollgate.cost.saved_usd'] === 'number') saved += a['tollgate.cost.saved_usd'];
  console.log(
    `   ${span.name.padEnd(18)} tollgate.cache.hit=${hit ?? '-'}  tollgate.cost.reconciled_usd=${usd(a['tollgate.cost.reconciled_usd'])}` +
      `  tollgate.cost.saved_usd=${usd(a['tollgate.cost.saved_usd'])}`,
  );
}
console.log(
  `\nThe mock provider served ${served()} requests for 6 calls; the cache saved ${usd(saved)} (estimate).`,
);
const [status] = await guard.budgetStatus('daily-spend');
console.log(`Budget "daily-spend": ${usd(status.spent)} spent — hits cost nothing and reserved nothing.`);

await mock.close();
await guard.close();
await tracerProvider.shutdown();

function usd(value) {
  return typeof value === 'number' ? `$${value.toFixed(6)}` : '-';
}
