// A burst of simulated LLM calls through the real gate: which were allowed, throttled,
// rate-limited or refused by a budget — every refusal happens before the (simulated) request.
import { BudgetExceededError, createGuard, RateLimitedError, withScope } from '@tollgate/core';

const started = Date.now();
const clock = () => `${String(Date.now() - started).padStart(5)} ms`;
const usd = (value) => (value === undefined ? 'n/a' : `$${value.toFixed(6)}`);

/** Prints one line per decision the guard makes. */
function logDecision(event) {
  const who = `${event.scope?.tenant ?? '-'}/${event.model ?? ''}`;
  switch (event.type) {
    case 'allowed':
      console.log(
        `${clock()}  allowed        ${who.padEnd(24)} reserved ${usd(event.estimatedCostUsd)} (estimate, worst case)`,
      );
      break;
    case 'throttled':
      console.log(
        `${clock()}  throttled      ${who.padEnd(24)} queued ${event.waitMillis} ms for ${event.limiterKeys.join(', ')}`,
      );
      break;
    case 'rate-limited':
      console.log(
        `${clock()}  rate-limited   ${who.padEnd(24)} ${event.reason}, retry after ${Number.isFinite(event.retryAfterMs) ? `${event.retryAfterMs} ms` : 'never (too big)'}`,
      );
      break;
    case 'budget-exceeded':
      console.log(
        `${clock()}  budget-refused ${who.padEnd(24)} "${event.budgetId}" ${event.unit}: spent ${event.spent} + reserved ${event.reserved} + requested ${event.requested} > ${event.limit} — request not sent`,
      );
      break;
    case 'settled':
      console.log(
        `${clock()}  settled        ${who.padEnd(24)} ${event.usage.inputTokens} in / ${event.usage.outputTokens} out, cost ${usd(event.actualCostUsd)} (estimate, Δ ${usd(event.costDeltaUsd)})`,
      );
      break;
    case 'threshold-crossed':
      console.log(
        `${clock()}  ALERT          budget "${event.budgetId}" ${JSON.stringify(event.scope)} passed ${event.threshold * 100}% (${event.spent} of ${event.limit} ${event.unit}, estimate)`,
      );
      break;
    case 'price-table-stale':
      console.log(
        `${clock()}  warning        price table checked ${event.checkedAt} (${Math.floor(event.ageDays)} days ago): review prices`,
      );
      break;
  }
}

const guard = createGuard({
  budgets: [
    { id: 'daily-spend', limit: { usd: 0.02 }, window: 'day', timeZone: 'UTC', alertAt: [0.5, 0.8, 1] },
    { id: 'tenant-tokens', per: ['tenant'], limit: { tokens: 12_000 }, window: 'hour' },
  ],
  rateLimits: [
    { provider: 'openai', model: 'gpt-4o-mini', rpm: 240, burstRequests: 4, maxWaitMillis: 1_200 },
    { provider: 'openai', model: 'gpt-4o', tpm: 20_000 },
  ],
  onDecision: logDecision,
});

/** Stands in for a provider: answers after a few milliseconds with usage below the reserved maximum. */
async function simulatedProvider(maxTokens) {
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
  return { usage: { inputTokens: 40, outputTokens: Math.ceil(maxTokens * (0.3 + Math.random() * 0.5)) } };
}

function call(model, maxTokens, content) {
  return guard.run(
    {
      provider: 'openai',
      operation: 'chat',
      model,
      body: { model, max_tokens: maxTokens, messages: [{ role: 'user', content }] },
    },
    () => simulatedProvider(maxTokens),
    { usage: (response) => response.usage },
  );
}

const outcomes = { allowed: 0, rateLimited: 0, budgetRefused: 0 };
async function attempt(tenant, model, maxTokens, content) {
  try {
    await withScope({ tenant }, () => call(model, maxTokens, content));
    outcomes.allowed++;
  } catch (error) {
    if (RateLimitedError.isInstance(error)) outcomes.rateLimited++;
    else if (BudgetExceededError.isInstance(error)) outcomes.budgetRefused++;
    else throw error;
  }
}

console.log(
  'Tollgate gate demo — simulated calls, real gate. Every cost below is an estimate from the bundled price table.\n',
);
console.log(
  '1) A burst of 14 gpt-4o-mini calls from two tenants against 240 RPM (bucket of 4, max wait 1.2 s):',
);
await Promise.all(
  Array.from({ length: 14 }, (_, index) =>
    attempt(
      index % 2 ? 'acme' : 'globex',
      'gpt-4o-mini',
      800,
      `Question ${index}: summarise ticket #${index}.`,
    ),
  ),
);

console.log('\n2) A call that can never fit the 20,000 TPM bucket is refused at once, not queued forever:');
await attempt('globex', 'gpt-4o', 30_000, 'Write a novel.');

console.log(
  '\n3) gpt-4o calls with large max_tokens until the $0.02 daily budget refuses one before it is sent:',
);
for (let index = 0; index < 6; index++)
  await attempt('acme', 'gpt-4o', 600, 'Draft a detailed reply to the customer.');

console.log('\nBudgets now (estimates):');
for (const status of await guard.budgetStatus('daily-spend')) {
  console.log(
    `  daily-spend            ${status.unit}: spent ${usd(status.spent)}, reserved ${usd(status.reserved)}, limit ${usd(status.limit)}`,
  );
}
for (const tenant of ['acme', 'globex']) {
  for (const status of await guard.budgetStatus('tenant-tokens', { tenant })) {
    console.log(
      `  tenant-tokens (${tenant.padEnd(6)}) ${status.unit}: spent ${status.spent}, reserved ${status.reserved}, limit ${status.limit}`,
    );
  }
}
console.log(
  `\nOutcomes: ${outcomes.allowed} allowed, ${outcomes.rateLimited} rate-limited, ${outcomes.budgetRefused} refused by a budget.`,
);
await guard.close();
