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
  const idempotencyKeys: unknown[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      idempotencyKeys.push(request.headers['idempotency-key']);
      setTimeout(() => response.writeHead(statuses.shift() ?? 200).end(), delayMillis);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    bodies,
    idempotencyKeys,
  };
}

const call: LlmCallDescriptor = {
  provider: 'openai',
  operation: 'chat',
  model: 'gpt-4o-mini',
  body: { model: 'gpt-4o-mini', max_tokens: 10, messages: [] },
};

function guardWithWebhook(
  url: string,
  timeoutMillis = 2_000,
  webhook: { closeTimeoutMillis?: number } = {},
): Guard {
  const guard = createGuard({
    budgets: [{ id: 'calls', limit: { requests: 4 }, window: 'day', timeZone: 'UTC', alertAt: [0.5] }],
    alerts: {
      webhook: { url, timeoutMillis, maxAttempts: 3, headers: { authorization: 'Bearer t' }, ...webhook },
    },
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

  it('gives every attempt of one crossing the same alert id, and names the window', async () => {
    const hook = await receiver([503, 200]);
    const guard = guardWithWebhook(hook.url);
    for (let i = 0; i < 4; i++) await guard.run(call, async () => 'ok');
    await guard.close();
    const [first, retry] = hook.bodies as Array<Record<string, unknown>>;
    expect(first!.alertId).toMatch(/^[0-9a-f]{32}$/);
    expect(retry!.alertId).toBe(first!.alertId);
    expect(hook.idempotencyKeys).toEqual([first!.alertId, first!.alertId]);
    const dayStart = new Date();
    dayStart.setUTCHours(0, 0, 0, 0);
    expect(first).toMatchObject({
      windowKind: 'calendar',
      windowStart: dayStart.toISOString(),
      windowEnd: new Date(dayStart.getTime() + 86_400_000).toISOString(),
    });
  });

  it('does not hold up close() on a dead webhook past closeTimeoutMillis', async () => {
    const hook = await receiver([200], 30_000);
    const guard = guardWithWebhook(hook.url, 10_000, { closeTimeoutMillis: 200 });
    for (let i = 0; i < 2; i++) await guard.run(call, async () => 'ok');
    await expect.poll(() => hook.bodies.length).toBe(1);
    const started = Date.now();
    await guard.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    // No retry starts once close() has given up on the delivery.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(hook.bodies).toHaveLength(1);
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
