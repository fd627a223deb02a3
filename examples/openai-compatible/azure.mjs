// An AzureOpenAI client: calls name deployments, Tollgate prices them as the models they serve
// and reports them under azure.ai.openai, so budgets and limits can single Azure out.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BudgetExceededError } from '@tollgate/core';
import { startMockProvider } from '@tollgate/mock-provider';
import { register } from '@tollgate/node';

// A loopback server that speaks Azure OpenAI's routes (/openai/deployments/<name>/...).
const azureServer = await startMockProvider({ outputTokens: 120 });

const spans = new InMemorySpanExporter();
const tollgate = register({
  serviceName: 'azure-openai',
  spanProcessors: [new SimpleSpanProcessor(spans)],
  metricReaders: [],
  openai: { deployments: { 'prod-gpt4o': 'gpt-4o', 'batch-mini': 'gpt-4o-mini' } },
  guard: {
    budgets: [
      { id: 'azure-daily', limit: { usd: 0.01 }, window: 'day', match: { provider: 'azure.ai.openai' } },
    ],
  },
});

// Imported after register() so the loader hook patches it.
const { AzureOpenAI } = await import('openai');
const azure = new AzureOpenAI({
  endpoint: azureServer.url,
  apiKey: 'unused',
  apiVersion: '2024-10-21',
  maxRetries: 0,
});

const usd = (value) => `$${value.toFixed(6)}`;

async function ask(label, deployment, max_tokens) {
  const before = azureServer.requests().length;
  try {
    await azure.chat.completions.create({
      model: deployment,
      max_tokens,
      messages: [{ role: 'user', content: 'Draft the release notes' }],
    });
    // The span ends, and the cost settles, once the SDK has read the whole response.
    await new Promise((resolve) => setTimeout(resolve, 10));
    const span = spans.getFinishedSpans().at(-1).attributes;
    const [budget] = await tollgate.guard.budgetStatus('azure-daily');
    console.log(
      `${label}  sent     deployment=${deployment}  gen_ai.provider.name=${span['gen_ai.provider.name']}  ` +
        `priced as ${span['tollgate.price.model']}  settled ${usd(span['tollgate.cost.reconciled_usd'])}  ` +
        `azure-daily ${usd(budget.spent)} of ${usd(budget.limit)}`,
    );
  } catch (error) {
    if (!BudgetExceededError.isInstance(error)) throw error;
    console.log(
      `${label}  REFUSED  ${error.name} by budget "${error.budgetId}": spent ${usd(error.spent)} + ` +
        `requested ${usd(error.requested)} > limit ${usd(error.limit)}; requests sent for it: ${azureServer.requests().length - before}`,
    );
  }
}

console.log('An AzureOpenAI client against a mock Azure endpoint (nothing leaves this machine).');
console.log('Costs are estimates from the bundled price table, at the model each deployment serves.\n');
await ask('#1', 'batch-mini', 200);
await ask('#2', 'prod-gpt4o', 200);
await ask('#3', 'prod-gpt4o', 4_000); // gpt-4o's worst case for 4,000 output tokens exceeds what is left

console.log(
  `\nThe endpoint received ${azureServer.requests().length} requests; the refused call was never sent.`,
);
await tollgate.shutdown();
await azureServer.close();
