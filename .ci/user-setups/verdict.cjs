// Shared by the fixture apps: one call that fits the budget, one that does not. The first call is made
// synchronously by the caller (no await before it), so a patch that lands late misses it.
// Prints one line: {"scenario":…,"verdict":"gated"|"ungated","calls":[…]}.
const messages = [{ role: 'user', content: 'hi' }];
const outcome = (promise) =>
  promise.then(
    () => 'allowed',
    (error) => error.name,
  );

/** Runs the two calls with `OpenAI` and prints the verdict line. */
function exercise(OpenAI) {
  const client = new OpenAI({ apiKey: 'test', baseURL: process.env.MOCK_OPENAI_URL, maxRetries: 0 });
  const first = outcome(client.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 20, messages }));
  return (async () => {
    const calls = [await first];
    calls.push(
      await outcome(client.chat.completions.create({ model: 'gpt-4o', max_tokens: 4000, messages })),
    );
    const gated = calls[0] === 'allowed' && calls[1] === 'BudgetExceededError';
    print(gated ? 'gated' : 'ungated', calls);
  })();
}

/** Per-tenant variant: acme may make one request, beta has no budget; both calls go through `withScope`. */
function exerciseTenants(OpenAI, withScope) {
  const client = new OpenAI({ apiKey: 'test', baseURL: process.env.MOCK_OPENAI_URL, maxRetries: 0 });
  const call = (tenant) =>
    withScope({ tenant }, () =>
      outcome(client.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 20, messages })),
    );
  return (async () => {
    const calls = [`acme:${await call('acme')}`, `acme:${await call('acme')}`, `beta:${await call('beta')}`];
    const gated = calls.join() === 'acme:allowed,acme:BudgetExceededError,beta:allowed';
    print(gated ? 'gated' : 'ungated', calls);
  })();
}

function print(verdict, calls) {
  console.log(JSON.stringify({ scenario: process.env.SCENARIO, verdict, calls }));
}

/** The guard configuration every fixture uses: a budget the second call does not fit. */
const guardConfig = { budgets: [{ id: 'tiny', limit: { usd: 0.0005 }, window: 'day' }] };

module.exports = { exercise, exerciseTenants, guardConfig };
