// The app always asks for gpt-4o. Once the daily budget is more than half used, the gate's fallback
// rule sends gpt-4o-mini instead — the app code does not change. The mock provider's request log
// shows which model was actually sent.
import { startMockProvider } from '@tollgate/mock-provider';
import OpenAI from 'openai';
import { guard, spans, tracerProvider } from './telemetry.mjs';

const mock = await startMockProvider({ outputTokens: 150 });
const openai = new OpenAI({ apiKey: 'not-needed', baseURL: mock.openaiBaseUrl, maxRetries: 0 });

const events = [];
guard.onDecision((event) => events.push(event));
const lastEvent = (type) => events.findLast((event) => event.type === type);
const usd = (value) => `$${value.toFixed(6)}`;
const answeredBy = [];

console.log('Cheaper-model fallback through Tollgate, against the bundled mock provider (no API key).');
console.log('Budget "daily-spend": $0.01 a day (estimate). Rule "cheaper-after-half": past 50 % used,');
console.log('gpt-4o is sent as gpt-4o-mini. Every call below asks for gpt-4o with max_tokens 200.\n');
console.log('call  asked for  provider got   budget used before   reserved (worst case)   actual cost');

for (let call = 1; call <= 8; call++) {
  const [before] = await guard.budgetStatus('daily-spend');
  const completion = await openai.chat.completions.create({
    model: 'gpt-4o',
    max_tokens: 200,
    messages: [{ role: 'user', content: `Draft reply number ${call} to the customer.` }],
  });
  answeredBy.push(completion.model);
  const received = mock.requests().at(-1);
  const fallback = lastEvent('model-fallback');
  const switched = fallback !== undefined && fallback.callId === lastEvent('allowed').callId;
  console.log(
    `${String(call).padStart(4)}  gpt-4o     ${received.model.padEnd(12)}  ` +
      `${`${((before.spent / before.limit) * 100).toFixed(0)} %`.padStart(8)}${switched ? ' → fallback' : '           '}` +
      `   ${usd(lastEvent('allowed').estimatedCostUsd).padStart(21)}   ${usd(lastEvent('settled').actualCostUsd).padStart(11)}`,
  );
}

const [after] = await guard.budgetStatus('daily-spend');
const sent = mock.requests().map((request) => request.model);
console.log(
  `\nThe mock provider received ${sent.filter((model) => model === 'gpt-4o').length} gpt-4o and ` +
    `${sent.filter((model) => model === 'gpt-4o-mini').length} gpt-4o-mini requests; ` +
    `budget ${usd(after.spent)} of ${usd(after.limit)} spent (estimate).`,
);

console.log(`The app sees it too: completion.model for calls 1–8 was ${answeredBy.join(', ')}.`);

const switchedSpan = spans.getFinishedSpans().find((span) => span.attributes['tollgate.fallback.from_model']);
if (switchedSpan) {
  const a = switchedSpan.attributes;
  console.log(
    `A switched call's span: name "${switchedSpan.name}", gen_ai.request.model=${a['gen_ai.request.model']}, ` +
      `tollgate.fallback.from_model=${a['tollgate.fallback.from_model']}, gen_ai.response.model=${a['gen_ai.response.model']}.`,
  );
}

await mock.close();
await guard.close();
await tracerProvider.shutdown();
