// Two self-hosted OpenAI-compatible servers behind the plain openai client: Tollgate tells them
// apart by base URL and prices them with your figures, so budgets and rate limits hold per server.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BudgetExceededError, RateLimitedError } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import { register } from '@tollgate/node';

// Two loopback servers that speak OpenAI's API stand in for a vLLM box and an Ollama laptop.
const vllmServer = await startMockProvider({ outputTokens: 120 });
const ollamaServer = await startMockProvider({ outputTokens: 60 });
const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';

const spans = new InMemorySpanExporter();
const tollgate = register({
  serviceName: 'openai-compatible',
  spanProcessors: [new SimpleSpanProcessor(spans)],
  metricReaders: [],
  guard: {
    providers: [
      // USD per 1M tokens: your amortised GPU cost, not a list price.
      { name: 'vllm', baseURL: vllmServer.openaiBaseUrl, prices: { [LLAMA]: { input: 0.2, output: 0.6 } } },
      // Free at the margin: every model at zero. Trailing slash and default port do not matter.
      { name: 'ollama', baseURL: `${ollamaServer.url}/v1/`, prices: { '*': { input: 0, output: 0 } } },
    ],
    budgets: [
      { id: 'daily-usd', limit: { usd: 0.0003 }, window: 'day', timeZone: 'UTC' },
      { id: 'ollama-tokens', limit: { tokens: 1_000 }, window: 'day', match: { provider: 'ollama' } },
    ],
    rateLimits: [{ provider: 'ollama', rpm: 3, maxWaitMillis: 0 }],
  },
});

// Imported after register() so the loader hook patches it.
const { default: OpenAI } = await import('openai');
const vllm = new OpenAI({ apiKey: 'unused', baseURL: vllmServer.openaiBaseUrl, maxRetries: 0 });
const ollama = new OpenAI({ apiKey: 'unused', baseURL: `${ollamaServer.url}/v1`, maxRetries: 0 });

const usd = (value) => `$${value.toFixed(6)}`;
const amount = ({ unit }, value) => (unit === 'usd' ? usd(value) : `${value} ${unit}`);
const served = () => vllmServer.requests().length + ollamaServer.requests().length;
async function status(id) {
  const [budget] = await tollgate.guard.budgetStatus(id);
  return budget.unit === 'usd'
    ? `${usd(budget.spent)} of ${usd(budget.limit)}`
    : `${budget.spent} of ${budget.limit} tokens`;
}

/** One call; prints what the gate decided and, when sent, what the span recorded. */
async function ask(label, client, model, max_tokens, budgets) {
  const before = served();
  try {
    await client.chat.completions.create({
      model,
      max_tokens,
      messages: [{ role: 'user', content: 'Summarise the incident report' }],
    });
    // The span ends, and the cost settles, once the SDK has read the whole response.
    await new Promise((resolve) => setTimeout(resolve, 10));
    const span = spans.getFinishedSpans().at(-1).attributes;
    console.log(
      `${label}  sent     gen_ai.provider.name=${span['gen_ai.provider.name']}  model=${model}  ` +
        `settled ${usd(span['tollgate.cost.reconciled_usd'])}  ` +
        (await Promise.all(budgets.map(async (id) => `${id} ${await status(id)}`))).join('  '),
    );
    return 'sent';
  } catch (error) {
    if (!BudgetExceededError.isInstance(error) && !RateLimitedError.isInstance(error)) throw error;
    const why = BudgetExceededError.isInstance(error)
      ? `budget "${error.budgetId}": spent ${amount(error, error.spent)} + requested ${amount(error, error.requested)} > limit ${amount(error, error.limit)}`
      : `rate limit "${error.limiterKey}"`;
    console.log(`${label}  REFUSED  ${error.name} by ${why}; requests sent for it: ${served() - before}`);
    return error.name;
  }
}

console.log(
  'Two self-hosted OpenAI-compatible servers, one openai client each (mock servers: nothing leaves',
);
console.log('this machine). Costs are estimates at the prices configured for each server.\n');

console.log('vLLM, priced at $0.20 / $0.60 per 1M tokens, against a $0.0003 daily USD budget:');
for (let call = 1; call <= 6; call++) {
  if ((await ask(`  vllm   #${call}`, vllm, LLAMA, 200, ['daily-usd'])) !== 'sent') break;
}

console.log('\nOllama, priced at zero: the USD budget that refused vLLM does not stop it (a $0 call fits);');
console.log('its own token budget and rate limit (3 requests a minute per model) do.');
const both = ['daily-usd', 'ollama-tokens'];
await ask('  ollama #1', ollama, 'llama3.2', 100, both);
await ask('  ollama #2', ollama, 'qwen2.5:7b', 100, both); // a bucket of its own: ollama:qwen2.5:7b
await ask('  ollama #3', ollama, 'llama3.2', 2_000, both); // more than the token budget has left
await ask('  ollama #4', ollama, 'llama3.2', 100, both);
await ask('  ollama #5', ollama, 'llama3.2', 100, both);
await ask('  ollama #6', ollama, 'llama3.2', 100, both); // the fourth request this minute to ollama:llama3.2

console.log(
  `\nThe servers received ${vllmServer.requests().length} (vLLM) and ${ollamaServer.requests().length} (Ollama) requests; ` +
    'every refused call was stopped before it was sent.',
);
await tollgate.shutdown();
await Promise.all([vllmServer.close(), ollamaServer.close()]);
