// Two processes, one budget: each worker gates its own openai calls, and the budget they share
// lives in a Redis started just for this run. The provider is the bundled mock (no API key).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createGuard } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import { createRedisLedger } from '@tollgate/redis';
import { hasRedisServer, startThrowawayRedis } from './redis-server.mjs';

if (!hasRedisServer()) {
  console.log(
    'redis-server was not found on the PATH, so this example has nothing to share its budget through.',
  );
  console.log(
    'Install Redis (e.g. `apt-get install redis-server` or `brew install redis`) and run it again.',
  );
  process.exit(0);
}

const redis = await startThrowawayRedis();
const mock = await startMockProvider({ outputTokens: 150 });
console.log(`Shared budget through Redis — a throwaway redis-server on ${redis.url} (no persistence),`);
console.log('two worker processes, and the bundled mock provider (no API key). Costs are estimates.\n');
console.log(
  'Budget "team-daily": $0.02 a day, kept in Redis. Each worker makes gpt-4o calls (max_tokens 200)',
);
console.log('on two concurrent lanes until the shared budget refuses one:\n');

const workers = ['worker-a', 'worker-b'].map((name) =>
  fork(new URL('./worker.mjs', import.meta.url), {
    execArgv: ['--import', new URL('./gate.mjs', import.meta.url).href],
    env: {
      ...process.env,
      WORKER_NAME: name,
      TOLLGATE_REDIS_URL: redis.url,
      MOCK_OPENAI_BASE_URL: mock.openaiBaseUrl,
    },
  }),
);
await Promise.all(workers.map((worker) => once(worker, 'message')));
const reports = workers.map((worker) => once(worker, 'message').then(([report]) => report));
const exits = workers.map((worker) => once(worker, 'exit'));
for (const worker of workers) worker.send('go');
const done = await Promise.all(reports);
const codes = await Promise.all(exits);
if (codes.some(([code]) => code !== 0))
  throw new Error(`a worker failed: exit codes ${codes.map(([code]) => code)}`);

// A third guard on the same Redis reads the budget both workers charged.
const reader = createGuard({
  budgets: [{ id: 'team-daily', limit: { usd: 0.02 }, window: 'day', timeZone: 'UTC' }],
  ledger: createRedisLedger({ url: redis.url, keyPrefix: 'tollgate-example' }),
});
const [status] = await reader.budgetStatus('team-daily');
await reader.close();

const total = done.reduce((sum, report) => sum + report.sent, 0);
console.log(
  `\n${done.map((report) => `${report.name} sent ${report.sent}`).join(', ')}: ${total} calls in all; ` +
    `the mock provider served ${mock.requests().length}.`,
);
console.log(
  `Redis says "team-daily" is at $${status.spent.toFixed(6)} spent, $${status.reserved.toFixed(6)} reserved, ` +
    `of $${status.limit} — one budget for both processes, never overspent.`,
);
console.log('(With the default in-memory ledger each process would have had its own $0.02: $0.04 in all.)');

await mock.close();
await redis.stop();
console.log('redis-server stopped and its directory removed.');
