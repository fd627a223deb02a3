// Gate overhead, measured side by side in one run: a no-op call raw, through the guard
// with budgets only, and through the guard with budgets and non-binding rate limits.
import { performance } from 'node:perf_hooks';
import { createGuard, estimateInputTokens } from '@tollgate/core';

const CALLS = Number(process.env.BENCH_CALLS ?? 5_000);
const CONCURRENCY = 32;

const body = {
  model: 'gpt-4o-mini',
  max_tokens: 256,
  messages: [{ role: 'user', content: 'Summarise the quarterly report in three bullet points.' }],
};
const call = { provider: 'openai', operation: 'chat', model: 'gpt-4o-mini', body };
const noop = async () => ({ usage: { inputTokens: 20, outputTokens: 40 } });
const usage = (result) => result.usage;

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measure(name, runOne) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        next++;
        const t0 = performance.now();
        await runOne();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    perSecond: CALLS / seconds,
    medianMs: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

const budgetsOnly = createGuard({
  budgets: [
    { id: 'day', limit: { usd: 1_000_000 }, window: 'day' },
    { id: 'tenant', per: ['tenant'], limit: { tokens: 1e12 }, window: 'month' },
  ],
});
const withLimits = createGuard({
  budgets: [{ id: 'day', limit: { usd: 1_000_000 }, window: 'day' }],
  rateLimits: [
    { provider: 'openai', model: 'gpt-4o-mini', rpm: 10_000_000, tpm: 1e12, maxConcurrent: 10_000 },
  ],
});

// Warm-up: load the tokenizer and JIT the paths.
for (let i = 0; i < 500; i++) await budgetsOnly.run(call, noop, { usage });
for (let i = 0; i < 200; i++) await withLimits.run(call, noop, { usage });

const rows = [
  await measure('raw no-op call', noop),
  await measure('estimate only', async () => estimateInputTokens(call)),
  await measure('guard: budgets', () => budgetsOnly.run(call, noop, { usage })),
  await measure('guard: budgets + rate limits', () => withLimits.run(call, noop, { usage })),
];
await budgetsOnly.close();
await withLimits.close();

const base = rows[0];
console.log(
  `Gate overhead — ${CALLS} calls, ${CONCURRENCY} concurrent, Node ${process.version}, ${new Date().toISOString()}`,
);
console.log('| path | calls/s | median ms | p99 ms | throughput vs raw |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) {
  console.log(
    `| ${row.name} | ${row.perSecond.toFixed(0)} | ${row.medianMs.toFixed(3)} | ${row.p99Ms.toFixed(3)} | ${(row.perSecond / base.perSecond).toFixed(3)} |`,
  );
}
