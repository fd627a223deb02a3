// Starts the API on a free loopback port, fires bursts from three tenants at it with fetch, and
// prints what each tenant got back. The provider is the bundled mock (no API key).
import { preloadTokenizer } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import OpenAI from 'openai';
import { guard } from './gate.mjs';
import { createAnswerServer } from './server.mjs';

// Build the tokenizer now (~0.25 s of CPU) rather than inside the first request.
preloadTokenizer('gpt-4o');
const mock = await startMockProvider({ outputTokens: 80 });
const openai = new OpenAI({ apiKey: 'not-needed', baseURL: mock.openaiBaseUrl, maxRetries: 0 });
const server = createAnswerServer(openai);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const apiUrl = `http://127.0.0.1:${server.address().port}/answer`;

const tenants = [
  { name: 'acme', plan: 'chatty: 6 cheap calls a burst', model: 'gpt-4o-mini', maxTokens: 100, perBurst: 6 },
  { name: 'globex', plan: 'heavy: 3 long gpt-4o calls', model: 'gpt-4o', maxTokens: 150, perBurst: 3 },
  { name: 'initech', plan: 'trial: 2 gpt-4o calls', model: 'gpt-4o', maxTokens: 100, perBurst: 2 },
];
const results = new Map(tenants.map((tenant) => [tenant.name, []]));

console.log(`Multi-tenant API on ${apiUrl}, gated by Tollgate, in front of the bundled mock provider.`);
console.log(
  'Each tenant: budget "tenant-daily" of $0.004 a day (estimate); gpt-4o-mini limited to a burst of 3',
);
console.log(
  'then 4/s per tenant, at most 100 ms in the queue; trial tenant initech is cut off at 50 % of its budget.\n',
);

async function ask(tenant, index) {
  const response = await fetch(apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant': tenant.name },
    body: JSON.stringify({
      model: tenant.model,
      maxTokens: tenant.maxTokens,
      question: `Question ${index}?`,
    }),
  });
  const payload = await response.json();
  const result = {
    status: response.status,
    code: payload.error,
    retryAfter: response.headers.get('retry-after'),
  };
  results.get(tenant.name).push(result);
  return result;
}

for (let burst = 1; burst <= 3; burst++) {
  const line = await Promise.all(
    tenants.map(async (tenant) => {
      const statuses = await Promise.all(
        Array.from({ length: tenant.perBurst }, (_, index) => ask(tenant, index)),
      );
      return `${tenant.name} ${statuses.map((result) => result.status).join(' ')}`;
    }),
  );
  console.log(`burst ${burst}:  ${line.join('  |  ')}`);
  await new Promise((resolve) => setTimeout(resolve, 400));
}

console.log('\nPer tenant:');
console.log(
  '  tenant    plan                             200  429 rate  429 budget  429 policy  retry-after       spent (estimate)',
);
for (const tenant of tenants) {
  const list = results.get(tenant.name);
  const count = (predicate) => String(list.filter(predicate).length);
  const retryAfters = [...new Set(list.map((result) => result.retryAfter).filter(Boolean))].map(Number);
  const [status] = await guard.budgetStatus('tenant-daily', { tenant: tenant.name });
  console.log(
    `  ${tenant.name.padEnd(9)} ${tenant.plan.padEnd(32)} ${count((r) => r.status === 200).padStart(3)}` +
      `  ${count((r) => r.code === 'rate_limited').padStart(8)}  ${count((r) => r.code === 'budget_exceeded').padStart(10)}` +
      `  ${count((r) => r.code?.startsWith('policy_')).padStart(10)}  ${describeRetryAfters(retryAfters).padEnd(16)}` +
      `  $${status.spent.toFixed(6)} of $${status.limit.toFixed(3)}`,
  );
}

const ok = [...results.values()].flat().filter((result) => result.status === 200).length;
const refused = [...results.values()].flat().filter((result) => result.status === 429).length;
console.log(
  `\n${ok} answered, ${refused} refused with 429; the mock provider received ${mock.requests().length} requests — none of the refused ones.`,
);

server.closeAllConnections();
await new Promise((resolve) => server.close(resolve));
await mock.close();
await guard.close();
console.log('Server and mock provider closed.');

/** "1 s" for a rate limit; "29512 s (UTC midnight)" for a daily budget. */
function describeRetryAfters(values) {
  if (values.length === 0) return '-';
  const short = values.filter((value) => value < 60);
  const long = values.filter((value) => value >= 60);
  const parts = [];
  if (short.length > 0) parts.push(`${Math.max(...short)} s`);
  if (long.length > 0) parts.push(`~${(Math.max(...long) / 3600).toFixed(1)} h`);
  return parts.join(', ');
}
