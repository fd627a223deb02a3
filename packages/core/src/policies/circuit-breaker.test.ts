import { describe, expect, it } from 'vitest';
import { CircuitOpenError } from '../errors/circuit-open-error';
import { CircuitBreakers, type CircuitTransition, type NormalizedCircuitRule } from './circuit-breaker';

function breakers(rule: Partial<NormalizedCircuitRule>) {
  let now = 0;
  const transitions: CircuitTransition[] = [];
  const circuits = new CircuitBreakers(
    [
      {
        provider: 'openai',
        models: undefined,
        windowMillis: 60_000,
        minCalls: 5,
        errorRateAbove: undefined,
        latencyP95AboveMillis: undefined,
        spendUsdPerMinuteAbove: undefined,
        openMillis: 10_000,
        halfOpenProbes: 1,
        ...rule,
      },
    ],
    (transition) => transitions.push(transition),
    () => now,
  );
  return { circuits, transitions, advance: (ms: number) => (now += ms) };
}

const ok = { latencyMillis: 100, costUsd: 0 };
const serverError = { failure: 'server_error' as const, latencyMillis: 100, costUsd: 0 };

describe('CircuitBreakers', () => {
  it('opens on the error rate once enough calls are in the window, then refuses at once', () => {
    const { circuits, transitions } = breakers({ errorRateAbove: 0.5 });
    for (let i = 0; i < 4; i++) circuits.record('openai', 'gpt-4o', false, serverError);
    expect(circuits.admit('openai', 'gpt-4o')).toBe(false); // 4 calls < minCalls
    circuits.record('openai', 'gpt-4o', false, serverError);
    expect(transitions.map((t) => `${t.from}->${t.to}:${t.reason}`)).toEqual(['closed->open:error-rate']);
    const error = (() => {
      try {
        circuits.admit('openai', 'gpt-4o');
      } catch (caught) {
        return caught as CircuitOpenError;
      }
    })();
    expect(CircuitOpenError.isInstance(error)).toBe(true);
    expect(error!.retryAfterMs).toBe(10_000);
    // Other models have their own circuit.
    expect(circuits.admit('openai', 'gpt-4o-mini')).toBe(false);
  });

  it('does not count client errors and cancellations against the provider', () => {
    const { circuits, transitions } = breakers({ errorRateAbove: 0.5 });
    for (let i = 0; i < 10; i++)
      circuits.record('openai', 'gpt-4o', false, { failure: 'client_error', latencyMillis: 10, costUsd: 0 });
    expect(transitions).toEqual([]);
  });

  it('half-opens after the cool-down, lets one probe through, closes on its success', () => {
    const { circuits, transitions, advance } = breakers({ errorRateAbove: 0.5, minCalls: 1 });
    circuits.record('openai', 'gpt-4o', false, serverError);
    advance(9_999);
    expect(() => circuits.admit('openai', 'gpt-4o')).toThrow(CircuitOpenError);
    advance(1);
    expect(circuits.admit('openai', 'gpt-4o')).toBe(true); // the probe
    expect(() => circuits.admit('openai', 'gpt-4o')).toThrow(/probe in flight/);
    circuits.record('openai', 'gpt-4o', true, ok);
    expect(circuits.admit('openai', 'gpt-4o')).toBe(false);
    expect(transitions.map((t) => t.to)).toEqual(['open', 'half-open', 'closed']);
  });

  it('re-opens when the probe fails', () => {
    const { circuits, transitions, advance } = breakers({ errorRateAbove: 0.5, minCalls: 1 });
    circuits.record('openai', 'gpt-4o', false, serverError);
    advance(10_000);
    expect(circuits.admit('openai', 'gpt-4o')).toBe(true);
    circuits.record('openai', 'gpt-4o', true, { failure: 'timeout', latencyMillis: 30_000, costUsd: 0 });
    expect(transitions.at(-1)).toMatchObject({ from: 'half-open', to: 'open', reason: 'probe-failed' });
    expect(() => circuits.admit('openai', 'gpt-4o')).toThrow(CircuitOpenError);
  });

  it('opens on p95 latency and on spend rate', () => {
    const slow = breakers({ latencyP95AboveMillis: 1_000 });
    for (let i = 0; i < 5; i++)
      slow.circuits.record('openai', 'gpt-4o', false, { latencyMillis: 2_000, costUsd: 0 });
    expect(slow.transitions.at(-1)?.reason).toBe('latency');

    const spend = breakers({ spendUsdPerMinuteAbove: 1, windowMillis: 60_000 });
    spend.circuits.record('openai', 'gpt-4o', false, { latencyMillis: 10, costUsd: 0.6 });
    expect(spend.transitions).toEqual([]);
    spend.circuits.record('openai', 'gpt-4o', false, { latencyMillis: 10, costUsd: 0.6 });
    expect(spend.transitions.at(-1)?.reason).toBe('spend-rate');
  });

  it('forgets outcomes that left the window', () => {
    const { circuits, transitions, advance } = breakers({ errorRateAbove: 0.5, windowMillis: 10_000 });
    for (let i = 0; i < 4; i++) circuits.record('openai', 'gpt-4o', false, serverError);
    advance(10_001);
    for (let i = 0; i < 4; i++) circuits.record('openai', 'gpt-4o', false, ok);
    circuits.record('openai', 'gpt-4o', false, serverError);
    expect(transitions).toEqual([]);
  });

  it('opens and closes by hand, also for models no rule covers', () => {
    const { circuits, advance } = breakers({ errorRateAbove: 0.5 });
    circuits.forceOpen('anthropic', 'claude-haiku-4-5');
    advance(1_000_000);
    expect(() => circuits.admit('anthropic', 'claude-haiku-4-5')).toThrow(/manual/);
    expect(circuits.states()).toEqual([
      {
        circuitKey: 'anthropic:claude-haiku-4-5',
        provider: 'anthropic',
        model: 'claude-haiku-4-5',
        state: 'open',
        reason: 'manual',
      },
    ]);
    circuits.forceClose('anthropic', 'claude-haiku-4-5');
    expect(circuits.admit('anthropic', 'claude-haiku-4-5')).toBe(false);
  });
});
