import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LlmCallDescriptor } from '../call/llm-call';
import { TollgateConfigError } from '../errors/config-error';
import { LoopDetectedError } from '../errors/loop-detected-error';
import { TollgateError } from '../errors/tollgate-error';
import type { LoopRuleConfig } from '../policies/loop-rule';
import { chat, closeGuards, guardWith } from './test-support';

afterEach(async () => {
  vi.useRealTimers();
  await closeGuards();
});

const rule: LoopRuleConfig = { id: 'repeat-storm', maxIdentical: 3, windowMillis: 60_000, per: ['tenant'] };
const acme = { scope: { tenant: 'acme' } };
const globex = { scope: { tenant: 'globex' } };

describe('loop rules', () => {
  it('refuses the request after maxIdentical identical ones, with the typed error and its event', async () => {
    const { guard, events } = guardWith({ loops: [rule] });
    for (let i = 0; i < 3; i++) await guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme);
    const send = vi.fn(async () => 'ok');

    const refusal = guard.run(chat('gpt-4o-mini', 50), send, acme);
    await expect(refusal).rejects.toThrow(LoopDetectedError);
    const error = await refusal.catch((caught: unknown) => caught);
    expect(TollgateError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      ruleId: 'repeat-storm',
      scope: { tenant: 'acme' },
      count: 3,
      windowMillis: 60_000,
      code: 'TOLLGATE_LOOP_DETECTED',
    });
    expect((error as LoopDetectedError).retryAfterMs).toBeGreaterThan(59_000);
    expect(send).not.toHaveBeenCalled();
    const loopEvents = events.filter((event) => event.type === 'loop-detected');
    expect(loopEvents).toEqual([
      expect.objectContaining({
        ruleId: 'repeat-storm',
        loopScope: { tenant: 'acme' },
        count: 3,
        fingerprint: (error as LoopDetectedError).fingerprint,
        scope: expect.objectContaining({ tenant: 'acme' }),
      }),
    ]);
  });

  it('lets a different request and another tenant proceed while one tenant loops', async () => {
    const { guard } = guardWith({ loops: [rule] });
    for (let i = 0; i < 3; i++) await guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme);
    await expect(guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme)).rejects.toThrow(
      LoopDetectedError,
    );

    await expect(guard.run(chat('gpt-4o-mini', 50), async () => 'ok', globex)).resolves.toBe('ok');
    await expect(
      guard.run(chat('gpt-4o-mini', 50, 'A different question'), async () => 'ok', acme),
    ).resolves.toBe('ok');
    await expect(guard.run(chat('gpt-4o', 50), async () => 'ok', acme)).resolves.toBe('ok');
  });

  it('counts requests that differ only in key order, streaming or end-user fields as identical', async () => {
    const { guard } = guardWith({ loops: [{ ...rule, maxIdentical: 2 }] });
    const body = { model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] };
    const call = (extra: Record<string, unknown>): LlmCallDescriptor => ({
      provider: 'openai',
      operation: 'chat',
      model: 'gpt-4o-mini',
      body: extra,
    });
    await guard.run(call({ ...body, temperature: 0.2 }), async () => 'ok', acme);
    await guard.run(
      call({ messages: body.messages, temperature: 0.2, model: 'gpt-4o-mini', max_tokens: 50, stream: true }),
      async () => 'ok',
      acme,
    );
    await expect(
      guard.run(
        call({ ...body, temperature: 0.2, user: 'u-7', metadata: { run: '9' } }),
        async () => 'ok',
        acme,
      ),
    ).rejects.toThrow(LoopDetectedError);
    // A parameter that changes the answer makes it another request.
    await expect(guard.run(call({ ...body, temperature: 0.9 }), async () => 'ok', acme)).resolves.toBe('ok');
  });

  it('reserves no budget and takes no rate-limit capacity for a refused repeat', async () => {
    const { guard } = guardWith({
      loops: [rule],
      budgets: [{ id: 'per-minute', limit: { requests: 100 }, window: { rollingMillis: 60_000 } }],
      rateLimits: [{ provider: 'openai', rpm: 4, maxWaitMillis: 0 }],
    });
    for (let i = 0; i < 3; i++) await guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme);
    for (let i = 0; i < 5; i++)
      await expect(guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme)).rejects.toThrow(
        LoopDetectedError,
      );

    const [status] = await guard.budgetStatus('per-minute');
    expect(status).toMatchObject({ spent: 3, reserved: 0 });
    // The fourth request of the minute still fits the 4 rpm bucket: the refusals took none of it.
    await expect(guard.run(chat('gpt-4o-mini', 50), async () => 'ok', globex)).resolves.toBe('ok');
  });

  it('lets the request through again once the oldest repeat leaves the sliding window', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-06-01T12:00:00Z'));
    const { guard } = guardWith({ loops: [{ ...rule, windowMillis: 10_000 }] });
    await guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme);
    vi.advanceTimersByTime(4_000);
    await guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme);
    await guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme);
    const refused = await guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme).catch((error) => error);
    expect(refused).toMatchObject({ retryAfterMs: 6_000 });

    vi.advanceTimersByTime(5_999);
    await expect(guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme)).rejects.toThrow(
      LoopDetectedError,
    );
    vi.advanceTimersByTime(1);
    await expect(guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme)).resolves.toBe('ok');
    // The two sent at 4 s are still in the window, and so is the one just let through.
    await expect(guard.run(chat('gpt-4o-mini', 50), async () => 'ok', acme)).rejects.toThrow(
      LoopDetectedError,
    );
  });

  it('lets exactly maxIdentical of many concurrent identical requests through', async () => {
    const { guard } = guardWith({ loops: [{ ...rule, maxIdentical: 5 }] });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, () =>
        guard.run(
          chat('gpt-4o-mini', 50),
          async () => new Promise((resolve) => setTimeout(resolve, 5)),
          acme,
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(5);
    const reasons = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    expect(reasons).toHaveLength(35);
    expect(reasons.every((reason) => LoopDetectedError.isInstance(reason))).toBe(true);
  });

  it('applies a rule only to the calls its match selects, and counts callers together without per', async () => {
    const { guard } = guardWith({
      loops: [{ id: 'mini-only', maxIdentical: 1, match: { model: 'gpt-4o-mini', feature: 'search' } }],
    });
    const search = { scope: { feature: 'search', tenant: 'a' } };
    await guard.run(chat('gpt-4o-mini', 50), async () => 'ok', search);
    await expect(
      guard.run(chat('gpt-4o-mini', 50), async () => 'ok', { scope: { feature: 'search', tenant: 'b' } }),
    ).rejects.toMatchObject({ ruleId: 'mini-only', scope: {} });
    await guard.run(chat('gpt-4o-mini', 50), async () => 'ok', { scope: { feature: 'chat' } });
    await guard.run(chat('gpt-4o-mini', 50), async () => 'ok', { scope: { feature: 'chat' } });
    await guard.run(chat('gpt-4o', 50), async () => 'ok', search);
    await guard.run(chat('gpt-4o', 50), async () => 'ok', search);
  });

  it("counts every model call of one agent turn as a repeat with repeats: 'same-turn'", async () => {
    const { guard } = guardWith({
      loops: [{ id: 'agent-steps', maxIdentical: 3, per: ['user'], repeats: 'same-turn' }],
    });
    const tools = [{ type: 'function', function: { name: 'search', parameters: { type: 'object' } } }];
    const turn = (
      history: unknown[],
      question = 'Find the cheapest flight to Lisbon',
    ): LlmCallDescriptor => ({
      provider: 'openai',
      operation: 'chat',
      model: 'gpt-4o-mini',
      body: {
        model: 'gpt-4o-mini',
        max_tokens: 200,
        tools,
        messages: [
          { role: 'system', content: 'You are a travel agent.' },
          { role: 'user', content: question },
          ...history,
        ],
      },
    });
    const step = (n: number) => [
      {
        role: 'assistant',
        tool_calls: [{ id: `c${n}`, type: 'function', function: { name: 'search', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: `c${n}`, content: `no result ${n}` },
    ];
    const ana = { scope: { user: 'ana' } };
    await guard.run(turn([]), async () => 'ok', ana);
    await guard.run(turn(step(1)), async () => 'ok', ana);
    await guard.run(turn([...step(1), ...step(2)]), async () => 'ok', ana);
    await expect(
      guard.run(turn([...step(1), ...step(2), ...step(3)]), async () => 'ok', ana),
    ).rejects.toMatchObject({ ruleId: 'agent-steps', count: 3 });
    // A new question from the person is a new turn.
    await expect(guard.run(turn([], 'And a hotel?'), async () => 'ok', ana)).resolves.toBe('ok');
  });

  it('names the exact option path of a bad loop rule', () => {
    expect(() => guardWith({ loops: [{ id: 'x', maxIdentical: 0 }] })).toThrow(
      expect.objectContaining({ field: 'loops[0].maxIdentical' }),
    );
    expect(() => guardWith({ loops: [{ id: 'x' } as LoopRuleConfig] })).toThrow(TollgateConfigError);
    expect(() => guardWith({ loops: [{ id: 'x', maxIdentical: 2, per: ['model' as 'tenant'] }] })).toThrow(
      expect.objectContaining({ field: 'loops[0].per[0]' }),
    );
    expect(() =>
      guardWith({
        loops: [
          { id: 'x', maxIdentical: 2 },
          { id: 'x', maxIdentical: 3 },
        ],
      }),
    ).toThrow(expect.objectContaining({ field: 'loops[1].id' }));
    expect(() =>
      guardWith({ loops: [{ id: 'x', maxIdentical: 2, repeats: 'similar' as 'identical' }] }),
    ).toThrow(expect.objectContaining({ field: 'loops[0].repeats' }));
  });
});
