// Three runaway callers, each stopped before its request is sent while another tenant carries on.
// The app code is plain openai; the gate comes from telemetry.mjs (node --import).
import { BudgetExceededError, LoopDetectedError, withScope } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import OpenAI from 'openai';
import { decisions, guard, spans, tracerProvider } from './telemetry.mjs';

const mock = await startMockProvider({ outputTokens: 30, chunkDelayMillis: 0, toolCalls: 'when-offered' });
const client = new OpenAI({ apiKey: 'not-needed', baseURL: mock.openaiBaseUrl, maxRetries: 0 });

console.log('Runaway callers against the bundled mock provider (no API key). Costs are estimates.\n');

console.log(
  '1) A retry loop: tenant acme re-sends one question, as a broken "retry until it looks right" would.',
);
const question = {
  model: 'gpt-4o-mini',
  max_tokens: 60,
  messages: [{ role: 'user', content: 'Is build 4711 green?' }],
};
await withScope({ tenant: 'acme' }, async () => {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const before = mock.requests().length;
    try {
      // `user` does not change the answer: attempt 2 still counts as the same request.
      await client.chat.completions.create(attempt === 2 ? { ...question, user: 'ops-bot' } : question);
      console.log(`   attempt ${attempt}: sent`);
    } catch (error) {
      if (!LoopDetectedError.isInstance(error)) throw error;
      console.log(
        `   attempt ${attempt}: REFUSED  LoopDetectedError rule=${error.ruleId} count=${error.count} ` +
          `retryAfterMs≈${Math.round(error.retryAfterMs / 1000)}s; requests sent: ${mock.requests().length - before}`,
      );
    }
  }
});
await withScope({ tenant: 'globex' }, () => client.chat.completions.create(question));
console.log('   tenant globex asks the same question: sent (loop counts are per tenant)\n');

console.log('2) An agent stuck in one turn: its history grows each step, so no two calls are identical.');
const tools = [
  {
    type: 'function',
    function: {
      name: 'search_flights',
      description: 'Search flights',
      parameters: { type: 'object', properties: { to: { type: 'string' } } },
    },
  },
];
await withScope({ tenant: 'acme' }, async () => {
  const history = [
    { role: 'system', content: 'You are a travel agent. Answer with a price.' },
    { role: 'user', content: 'Find the cheapest flight to Lisbon next Friday.' },
  ];
  // The agent's bug: it stops only at an answer that names a price, and none ever does.
  for (let step = 1; step <= 20; step++) {
    try {
      const reply = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        max_tokens: 60,
        tools,
        messages: history,
      });
      const message = reply.choices[0].message;
      history.push(message);
      for (const call of message.tool_calls ?? [])
        history.push({ role: 'tool', tool_call_id: call.id, content: 'No flights found for that date.' });
      console.log(
        `   step ${step}: sent (${message.tool_calls ? 'tool call' : 'text, no price'}; history ${history.length} messages)`,
      );
    } catch (error) {
      if (!LoopDetectedError.isInstance(error)) throw error;
      console.log(`   step ${step}: REFUSED  LoopDetectedError rule=${error.ruleId} count=${error.count}`);
      break;
    }
  }
});
console.log('   ("retry-storm" never fired here: each step differs; "agent-steps" compares the turn)\n');

console.log('3) A fan-out of different questions: no repeats, so the per-tenant spend rate stops it.');
await withScope({ tenant: 'initech' }, async () => {
  for (let n = 1; n <= 40; n++) {
    try {
      await client.chat.completions.create({
        model: 'gpt-4o',
        max_tokens: 60,
        messages: [{ role: 'user', content: `Summarise support ticket #${n}.` }],
      });
    } catch (error) {
      if (!BudgetExceededError.isInstance(error)) throw error;
      console.log(
        `   ticket ${n}: REFUSED  BudgetExceededError budget=${error.budgetId} tenant=${error.scope.tenant} ` +
          `spent ${usd(error.spent)} + requested ${usd(error.requested)} > ${usd(error.limit)} per minute`,
      );
      console.log(`   tickets 1–${n - 1} were sent`);
      break;
    }
  }
});
await withScope({ tenant: 'globex' }, () =>
  client.chat.completions.create({
    model: 'gpt-4o',
    max_tokens: 60,
    messages: [{ role: 'user', content: 'Summarise support ticket #1.' }],
  }),
);
console.log('   tenant globex summarises a ticket: sent (its spend rate is its own)\n');

await mock.whenIdle();
console.log('What the gate reported:');
for (const event of decisions) {
  const detail =
    event.type === 'loop-detected'
      ? `rule=${event.ruleId} tenant=${event.loopScope.tenant} count=${event.count} fingerprint=${event.fingerprint.slice(0, 12)}…`
      : `budget=${event.budgetId} tenant=${event.budgetScope.tenant}`;
  console.log(`   event ${event.type}  ${detail}`);
}
const refused = spans
  .getFinishedSpans()
  .filter((span) => span.attributes['tollgate.gate.decision'] !== 'allowed');
for (const span of refused) {
  const a = span.attributes;
  console.log(
    `   span ${span.name}  tollgate.gate.decision=${a['tollgate.gate.decision']}  tollgate.tenant=${a['tollgate.tenant']}` +
      (a['tollgate.policy.rule'] ? `  tollgate.policy.rule=${a['tollgate.policy.rule']}` : ''),
  );
}
console.log(
  `\nThe mock provider served ${mock.requests().length} requests; ${refused.length} calls were refused before sending.`,
);

await mock.close();
await guard.close();
await tracerProvider.shutdown();

function usd(value) {
  return `$${value.toFixed(6)}`;
}
