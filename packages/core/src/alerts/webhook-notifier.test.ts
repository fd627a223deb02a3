import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LlmCallDescriptor } from '../call/llm-call';
import { createGuard, type Guard } from '../guard/guard';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A webhook receiver on a free loopback port that answers each request with the next status in `statuses`. */
async function receiver(statuses: number[], delayMillis = 0) {
  const bodies: unknown[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      setTimeout(() => response.writeHead(statuses.shift() ?? 200).end(), delayMillis);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, bodies };
}

const call: LlmCallDescriptor = {
  provider: 'openai',
  operation: 'chat',
  model: 'gpt-4o-mini',
  body: { model: 'gpt-4o-mini', max_tokens: 10, messages: [] },
};

function guardWithWebhook(url: string, timeoutMillis = 2_000): Guard {
  const guard = createGuard({
    budgets: [{ id: 'calls', limit: { requests: 4 }, window: 'day', alertAt: [0.5] }],
    alerts: { webhook: { url, timeoutMillis, maxAttempts: 3, headers: { authorization: 'Bearer t' } } },
  });
  closers.push(() => guard.close());
  return guard;
}

describe('threshold webhook', () => {
  it('POSTs each crossing once, retrying a failed delivery with backoff', async () => {
    const hook = await receiver([503, 200]);
    const guard = guardWithWebhook(hook.url);
    for (let i = 0; i < 4; i++) await guard.run(call, async () => 'ok');
    await guard.close();
    expect(hook.bodies).toHaveLength(2); // one alert, delivered on the second attempt
    expect(hook.bodies[1]).toMatchObject({
      type: 'tollgate.budget.threshold_crossed',
      budgetId: 'calls',
      unit: 'requests',
      threshold: 0.5,
      spent: 2,
      limit: 4,
      costLabel: 'estimate',
    });
  });

  it('never holds up the call, even when the webhook hangs', async () => {
    const hook = await receiver([200], 5_000);
    const guard = guardWithWebhook(hook.url, 100);
    const started = Date.now();
    for (let i = 0; i < 3; i++) await guard.run(call, async () => 'ok');
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('validates the webhook config', () => {
    expect(() => createGuard({ alerts: { webhook: { url: 'ftp://x' } } })).toThrow(
      /alerts\.webhook\.url: must be an http\(s\) URL/,
    );
  });
});
