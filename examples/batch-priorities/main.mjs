// A nightly batch job and a support chat share one openai account. The batch runs as priority
// 'background' (withScope), so when the rate limit queues calls, chat calls go first; and once the
// hourly budget is half spent, a defer policy holds the batch while chat calls carry on.
import { PolicyRejectedError, preloadTokenizer, withScope } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import OpenAI from 'openai';
import { guard } from './gate.mjs';

// Build the tokenizer now rather than inside the first call, so the timeline starts clean.
preloadTokenizer('gpt-4o');
const mock = await startMockProvider({ outputTokens: 40 });
const openai = new OpenAI({ apiKey: 'not-needed', baseURL: mock.openaiBaseUrl, maxRetries: 0 });

const batch = (user, fn) => withScope({ feature: 'nightly-digest', user, priority: 'background' }, fn);
const chat = (user, fn) => withScope({ feature: 'support-chat', user, priority: 'interactive' }, fn);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ask = (model, maxTokens, content) =>
  openai.chat.completions.create({ model, max_tokens: maxTokens, messages: [{ role: 'user', content }] });

// The gate's own record of when each call was admitted and how long it queued.
const started = Date.now();
const admitted = [];
guard.onDecision((event) => {
  if (event.type === 'allowed' && event.model === 'gpt-4o-mini') {
    const atMs = Date.now() - started;
    admitted.push({
      ...event.scope,
      atMs,
      queuedAtMs: atMs - event.waitMillis,
      waitMillis: event.waitMillis,
    });
  }
});

console.log(
  'Batch work and interactive calls through one Tollgate guard, against the bundled mock provider.',
);
console.log('Costs are estimates from the bundled price table.\n');

console.log(
  '1) Rate limit: gpt-4o-mini at one request per 250 ms, no burst. The batch queues digests for six',
);
console.log(
  '   users at once; 600 ms later two chat questions arrive and are admitted ahead of the queued digests.\n',
);
const digests = Array.from({ length: 6 }, (_, index) =>
  batch(`user-${index + 1}`, () => ask('gpt-4o-mini', 40, 'Summarise yesterday for this user.')),
);
await sleep(600);
const questions = ['alice', 'bob'].map((user) =>
  chat(user, () => ask('gpt-4o-mini', 40, 'Where is my order?')),
);
await Promise.all([...digests, ...questions]);

console.log('   admitted   priority     call                       queued at   waited');
for (const [position, call] of admitted.entries()) {
  const overtook =
    call.priority === 'interactive'
      ? admitted.slice(position + 1).filter((later) => later.queuedAtMs < call.queuedAtMs).length
      : 0;
  console.log(
    `   ${String(call.atMs).padStart(5)} ms   ${call.priority.padEnd(11)}  ${`${call.feature} ${call.user}`.padEnd(25)}` +
      `  ${String(call.queuedAtMs).padStart(6)} ms  ${String(call.waitMillis).padStart(5)} ms` +
      (overtook > 0 ? `   ← ahead of ${overtook} digests queued before it` : ''),
  );
}

console.log(
  '\n2) Budget: "hourly-spend" is $0.01 per rolling hour (estimate); rule "hold-batch" defers background calls past 50 %.',
);
console.log('   The batch moves on to long gpt-4o weekly reports, one at a time:\n');
mock.configure({ outputTokens: 300 });
const waiting = Array.from({ length: 5 }, (_, index) => `user-${index + 1}`);
while (waiting.length > 0) {
  const user = waiting[0];
  const servedBefore = mock.requests().length;
  try {
    await batch(user, () => ask('gpt-4o', 400, 'Write the weekly report for this user.'));
    waiting.shift();
    console.log(`   background   weekly-report ${user}   sent      budget now ${await used()}`);
  } catch (error) {
    if (!PolicyRejectedError.isInstance(error)) throw error;
    const minutes = Math.ceil(error.retryAfterMs / 60_000);
    console.log(
      `   background   weekly-report ${user}   DEFERRED  rule "${error.ruleId}" (${error.action}) at ` +
        `${(error.usedRatio * 100).toFixed(0)} % used; not sent (${mock.requests().length - servedBefore} requests reached the provider)`,
    );
    console.log(
      `                the batch holds ${waiting.length} reports until that spend ages out of the rolling hour (retry after ${minutes} min)`,
    );
    break;
  }
}
for (const user of ['carol', 'dave']) {
  await chat(user, () => ask('gpt-4o', 150, 'Is there a student discount?'));
  console.log(`   interactive  support-chat ${user.padEnd(7)} sent      budget now ${await used()}`);
}

console.log(
  `\nThe mock provider served ${mock.requests().length} requests; the ${waiting.length} deferred reports never reached it.`,
);
await mock.close();
await guard.close();

async function used() {
  const [status] = await guard.budgetStatus('hourly-spend');
  return `$${status.spent.toFixed(6)} of $${status.limit.toFixed(2)} (${((status.spent / status.limit) * 100).toFixed(0)} %)`;
}
