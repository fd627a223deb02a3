// The app: plain openai, Anthropic and Gemini SDK calls, unchanged. The gate comes from telemetry.mjs
// (node --import).

import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { BudgetExceededError, RateLimitedError, withScope } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import OpenAI from 'openai';
import { usd } from './decision-log.mjs';
import { exportsOverOtlp, guard, meterProvider, metricReader, spans, tracerProvider } from './telemetry.mjs';

const mock = await startMockProvider({ outputTokens: 120, latencyMillis: 15 });
const openai = new OpenAI({ apiKey: 'not-needed', baseURL: mock.openaiBaseUrl, maxRetries: 0 });
const anthropic = new Anthropic({ apiKey: 'not-needed', baseURL: mock.anthropicBaseUrl, maxRetries: 0 });
const gemini = new GoogleGenAI({ apiKey: 'not-needed', httpOptions: { baseUrl: mock.url } });
const outcomes = { allowed: 0, rateLimited: 0, budgetRefused: 0 };

async function attempt(tenant, fn) {
  try {
    await withScope({ tenant }, fn);
    outcomes.allowed++;
  } catch (error) {
    if (RateLimitedError.isInstance(error)) outcomes.rateLimited++;
    else if (BudgetExceededError.isInstance(error)) outcomes.budgetRefused++;
    else throw error;
  }
}

const ask = (model, maxTokens, content) =>
  openai.chat.completions.create({ model, max_tokens: maxTokens, messages: [{ role: 'user', content }] });

console.log(
  'Tollgate demo — real openai, Anthropic and Gemini SDK calls against the bundled mock provider (no API key, nothing leaves this machine).',
);
console.log('Every cost below is an estimate from the bundled price table.\n');

console.log(
  '1) A burst of 12 gpt-4o-mini calls from two tenants against 240 RPM (bucket of 4, max wait 1.2 s):',
);
await Promise.all(
  Array.from({ length: 12 }, (_, i) =>
    attempt(i % 2 ? 'acme' : 'globex', () => ask('gpt-4o-mini', 300, `Summarise ticket #${i}.`)),
  ),
);

console.log(
  '\n2) Streamed completions (openai, Anthropic and Gemini): chunks pass untouched, cost settled from provider-reported usage:',
);
await attempt('acme', async () => {
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    max_tokens: 400,
    stream: true,
    messages: [{ role: 'user', content: 'Write a short poem about toll booths.' }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  console.log(`        streamed ${text.split(' ').length} words; the caller never saw a usage chunk`);
});
await attempt('globex', async () => {
  const stream = anthropic.messages.stream({
    model: 'claude-haiku-4-5',
    max_tokens: 300,
    messages: [{ role: 'user', content: 'Describe a toll bridge at dawn.' }],
  });
  const message = await stream.finalMessage();
  console.log(
    `        Claude streamed ${message.usage.output_tokens} tokens through messages.stream(); cost settled from message_delta usage`,
  );
});

await attempt('acme', async () => {
  const stream = await gemini.models.generateContentStream({
    model: 'gemini-2.5-flash',
    contents: 'Name three famous toll roads.',
    config: { maxOutputTokens: 300 },
  });
  let usage;
  for await (const chunk of stream) usage = chunk.usageMetadata ?? usage;
  console.log(
    `        Gemini streamed ${usage.candidatesTokenCount} tokens through generateContentStream(); cost settled from the last chunk's usageMetadata`,
  );
});

console.log(
  '\n3) A call that can never fit the 10,000 TPM bucket (16,000 max tokens) is refused at once, not queued forever:',
);
await attempt('globex', () => ask('gpt-4o-mini', 16_000, 'Write a novel.'));

console.log('\n4) Long gpt-4o answers until the $0.05 daily budget refuses a call before it is sent:');
mock.configure({ outputTokens: 900 });
const servedBefore = mock.requests().length;
for (let i = 0; i < 7; i++)
  await attempt('acme', () => ask('gpt-4o', 1_000, 'Draft a detailed reply to the customer.'));
console.log(
  `        the mock provider served ${mock.requests().length - servedBefore} of these 7 calls; refused ones never reached it`,
);

await new Promise((resolve) => setTimeout(resolve, 50));
console.log("\nSpans (Tollgate's CLIENT span per call; rejected calls too):");
console.log(
  '  name                              decision          tokens in/out  estimated      reconciled     usage source',
);
// Only Tollgate's spans: others (e.g. an SDK's own span, with sdkSpans: 'nest') have no gate decision.
for (const span of spans.getFinishedSpans().filter((s) => s.attributes['tollgate.gate.decision'])) {
  const a = span.attributes;
  const tokens =
    a['gen_ai.usage.input_tokens'] === undefined
      ? '-'
      : `${a['gen_ai.usage.input_tokens']}/${a['gen_ai.usage.output_tokens']}`;
  console.log(
    `  ${span.name.padEnd(33)} ${String(a['tollgate.gate.decision']).padEnd(17)} ${tokens.padEnd(14)} ${usd(a['tollgate.cost.estimated_usd']).padEnd(14)} ${usd(a['tollgate.cost.reconciled_usd']).padEnd(14)} ${a['tollgate.usage.source'] ?? '-'}`,
  );
}

const { resourceMetrics } = await metricReader.collect();
const points = (name) =>
  resourceMetrics.scopeMetrics.flatMap((s) =>
    s.metrics.filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints),
  );
// The tenant label is what tells apart series that are otherwise alike.
const tenant = (point) =>
  point.attributes['tollgate.tenant'] ? `, tenant=${point.attributes['tollgate.tenant']}` : '';
console.log('\nMetrics:');
for (const point of points('tollgate.gate.decisions')) {
  console.log(
    `  tollgate.gate.decisions{decision=${point.attributes['tollgate.gate.decision']}, model=${point.attributes['gen_ai.request.model']}${tenant(point)}} = ${point.value}`,
  );
}
for (const point of points('tollgate.cost')) {
  console.log(
    `  tollgate.cost{kind=${point.attributes['tollgate.cost.kind']}, model=${point.attributes['gen_ai.request.model']}${tenant(point)}} = ${usd(point.value)} (estimate)`,
  );
}
for (const point of points('tollgate.budget.spent')) {
  console.log(
    `  tollgate.budget.spent{budget=${point.attributes['tollgate.budget.id']}${tenant(point)}} = ${point.value} ${point.attributes['tollgate.budget.unit']}`,
  );
}
for (const point of points('gen_ai.client.token.usage')) {
  console.log(
    `  gen_ai.client.token.usage{type=${point.attributes['gen_ai.token.type']}, model=${point.attributes['gen_ai.request.model']}${tenant(point)}}: ${point.value.count} calls, ${point.value.sum} tokens`,
  );
}
console.log(
  `\nOutcomes: ${outcomes.allowed} allowed, ${outcomes.rateLimited} rate-limited, ${outcomes.budgetRefused} refused by a budget.`,
);
console.log(
  `The mock provider served ${mock.requests().length} requests and would have billed ${mock.billed().inputTokens} input / ${mock.billed().outputTokens} output tokens.`,
);
if (exportsOverOtlp)
  console.log(
    `Spans and metrics were also exported over OTLP to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}.`,
  );

await mock.close();
await guard.close();
await tracerProvider.shutdown();
await meterProvider.shutdown();
