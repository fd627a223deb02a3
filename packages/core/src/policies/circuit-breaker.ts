import { CircuitOpenError } from '../errors/circuit-open-error';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** How a call ended, as far as a circuit cares. Client errors (4xx) and cancellations are not the provider's fault. */
export type CallFailure = 'server_error' | 'timeout' | 'rate_limited' | 'client_error' | 'cancelled';

export interface NormalizedCircuitRule {
  provider: string;
  models: readonly string[] | undefined;
  windowMillis: number;
  minCalls: number;
  errorRateAbove: number | undefined;
  latencyP95AboveMillis: number | undefined;
  spendUsdPerMinuteAbove: number | undefined;
  openMillis: number;
  halfOpenProbes: number;
}

export interface CircuitTransition {
  circuitKey: string;
  provider: string;
  model: string;
  from: CircuitState;
  to: CircuitState;
  reason: string;
}

/** A snapshot of one circuit, for gauges and operators. */
export interface CircuitStatus {
  circuitKey: string;
  provider: string;
  model: string;
  state: CircuitState;
  reason: string | undefined;
}

interface Outcome {
  atMs: number;
  failed: boolean;
  latencyMillis: number;
  costUsd: number;
}

interface Circuit {
  key: string;
  provider: string;
  model: string;
  rule: NormalizedCircuitRule;
  state: CircuitState;
  reason: string | undefined;
  openedAtMs: number;
  /** Manual opens stay open until closed by hand. */
  manual: boolean;
  probesInFlight: number;
  outcomes: Outcome[];
}

const COUNTED_FAILURES: ReadonlySet<CallFailure> = new Set(['server_error', 'timeout', 'rate_limited']);

/** Circuits per provider and model, driven by the outcomes the guard reports. */
export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();

  constructor(
    private readonly rules: readonly NormalizedCircuitRule[],
    private readonly onTransition: (transition: CircuitTransition) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Lets a call through or throws `CircuitOpenError`. Returns true when the call is a
   * half-open probe, whose outcome decides whether the circuit closes.
   */
  admit(provider: string, model: string): boolean {
    const circuit = this.circuitFor(provider, model, { create: false });
    if (!circuit || circuit.state === 'closed') return false;
    const nowMs = this.clock();
    if (circuit.state === 'open') {
      const reopensAt = circuit.openedAtMs + circuit.rule.openMillis;
      if (circuit.manual || nowMs < reopensAt) {
        throw new CircuitOpenError(
          circuit.key,
          circuit.reason ?? 'open',
          circuit.manual ? circuit.rule.openMillis : reopensAt - nowMs,
        );
      }
      this.move(circuit, 'half-open', 'cool-down elapsed');
    }
    if (circuit.probesInFlight >= circuit.rule.halfOpenProbes) {
      throw new CircuitOpenError(circuit.key, 'half-open, probe in flight', 0);
    }
    circuit.probesInFlight++;
    return true;
  }

  /** Records how an admitted call ended. */
  record(
    provider: string,
    model: string,
    probe: boolean,
    outcome: { failure?: CallFailure; latencyMillis: number; costUsd: number },
  ): void {
    const circuit = this.circuitFor(provider, model, { create: true });
    if (!circuit) return;
    const failed = outcome.failure !== undefined && COUNTED_FAILURES.has(outcome.failure);
    if (probe) {
      circuit.probesInFlight = Math.max(0, circuit.probesInFlight - 1);
      if (circuit.state !== 'half-open') return;
      if (outcome.failure === 'client_error' || outcome.failure === 'cancelled') return;
      if (failed) this.open(circuit, 'probe-failed');
      else {
        circuit.outcomes = [];
        this.move(circuit, 'closed', 'probe succeeded');
      }
      return;
    }
    if (circuit.state !== 'closed' || outcome.failure === 'cancelled') return;
    const nowMs = this.clock();
    circuit.outcomes.push({
      atMs: nowMs,
      failed,
      latencyMillis: outcome.latencyMillis,
      costUsd: outcome.costUsd,
    });
    const reason = this.tripReason(circuit, nowMs);
    if (reason) this.open(circuit, reason);
  }

  /** Opens a circuit by hand; it stays open until `close()`. */
  forceOpen(provider: string, model: string): void {
    const circuit = this.circuitFor(provider, model, { create: true, manual: true })!;
    circuit.manual = true;
    this.open(circuit, 'manual');
  }

  /** Closes a circuit by hand and forgets its history. */
  forceClose(provider: string, model: string): void {
    const circuit = this.circuitFor(provider, model, { create: false });
    if (!circuit) return;
    circuit.manual = false;
    circuit.outcomes = [];
    circuit.probesInFlight = 0;
    if (circuit.state !== 'closed') this.move(circuit, 'closed', 'manual');
  }

  states(): CircuitStatus[] {
    return [...this.circuits.values()].map(({ key, provider, model, state, reason }) => ({
      circuitKey: key,
      provider,
      model,
      state,
      reason,
    }));
  }

  private tripReason(circuit: Circuit, nowMs: number): string | undefined {
    const { rule } = circuit;
    const since = nowMs - rule.windowMillis;
    let drop = 0;
    while (drop < circuit.outcomes.length && circuit.outcomes[drop]!.atMs <= since) drop++;
    if (drop > 0) circuit.outcomes.splice(0, drop);
    const outcomes = circuit.outcomes;
    if (rule.spendUsdPerMinuteAbove !== undefined) {
      const spent = outcomes.reduce((sum, outcome) => sum + outcome.costUsd, 0);
      if (spent / (rule.windowMillis / 60_000) > rule.spendUsdPerMinuteAbove) return 'spend-rate';
    }
    if (outcomes.length < rule.minCalls) return undefined;
    if (rule.errorRateAbove !== undefined) {
      const failures = outcomes.reduce((sum, outcome) => sum + (outcome.failed ? 1 : 0), 0);
      if (failures / outcomes.length > rule.errorRateAbove) return 'error-rate';
    }
    if (rule.latencyP95AboveMillis !== undefined) {
      const latencies = outcomes.map((outcome) => outcome.latencyMillis).sort((a, b) => a - b);
      const p95 = latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.95) - 1)]!;
      if (p95 > rule.latencyP95AboveMillis) return 'latency';
    }
    return undefined;
  }

  private open(circuit: Circuit, reason: string): void {
    circuit.openedAtMs = this.clock();
    circuit.outcomes = [];
    circuit.probesInFlight = 0;
    this.move(circuit, 'open', reason);
  }

  private move(circuit: Circuit, to: CircuitState, reason: string): void {
    const from = circuit.state;
    circuit.state = to;
    circuit.reason = to === 'closed' ? undefined : reason;
    this.onTransition({
      circuitKey: circuit.key,
      provider: circuit.provider,
      model: circuit.model,
      from,
      to,
      reason,
    });
  }

  /** The circuit for a model, created on first use when a rule covers it (or any model, for a manual open). */
  private circuitFor(
    provider: string,
    model: string,
    options: { create: boolean; manual?: boolean },
  ): Circuit | undefined {
    const key = `${provider}:${model}`;
    const existing = this.circuits.get(key);
    if (existing || !options.create) return existing;
    const rule =
      this.rules.find(
        (candidate) =>
          candidate.provider === provider && (!candidate.models || candidate.models.includes(model)),
      ) ?? (options.manual ? MANUAL_RULE : undefined);
    if (!rule) return undefined;
    const circuit: Circuit = {
      key,
      provider,
      model,
      rule,
      state: 'closed',
      reason: undefined,
      openedAtMs: 0,
      manual: false,
      probesInFlight: 0,
      outcomes: [],
    };
    this.circuits.set(key, circuit);
    return circuit;
  }
}

/** Used for circuits opened by hand on a model no rule covers. */
const MANUAL_RULE: NormalizedCircuitRule = {
  provider: '*',
  models: undefined,
  windowMillis: 60_000,
  minCalls: Number.POSITIVE_INFINITY,
  errorRateAbove: undefined,
  latencyP95AboveMillis: undefined,
  spendUsdPerMinuteAbove: undefined,
  openMillis: 30_000,
  halfOpenProbes: 1,
};
