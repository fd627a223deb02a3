import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BudgetLedger, ExpiredReservation, ThresholdCrossing } from '../budgets/budget-ledger';
import { MemoryLedger } from '../budgets/memory-ledger';
import type { LlmCallDescriptor } from '../call/llm-call';
import type { GuardConfig } from '../config/guard-config';
import {
  NANO_USD_PER_USD,
  type NormalizedGuardConfig,
  normalizeGuardConfig,
} from '../config/normalize-guard-config';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import { TollgateConfigError } from '../errors/config-error';
import { RateLimitedError } from '../errors/rate-limited-error';
import { UnknownModelPriceError } from '../errors/unknown-model-price-error';
import type { ProviderFeedback } from '../limits/provider-feedback';
import { type LimiterPermit, RateLimiter } from '../limits/rate-limiter';
import { PriceTable } from '../pricing/price-table';
import type { TokenUsage } from '../pricing/token-usage';
import type { CallPriority, CallScope } from '../scope/scope';
import { currentScope, mergeScopes } from '../scope/with-scope';
import { type BudgetInstanceState, BudgetInstances, minHeadroomRatio } from './budget-instances';
import {
  BudgetPlan,
  type BudgetSubject,
  type LedgerAmounts,
  type PlannedLine,
  parseCounterKey,
  toDisplayUnits,
  touched,
} from './budget-plan';
import { actualCostUsd, type CallEstimate, estimateCall, usageOrWorstCase } from './call-estimate';
import { DecisionEmitter } from './decision-emitter';
import type { BudgetTouched, CallDecisionBase, DecisionHook, UsageSource } from './decision-events';

/** Per-call options; they override the ambient `withScope()` scope field by field. */
export interface CallOptions {
  scope?: CallScope;
  /** Shorthand for `scope.priority`. */
  priority?: CallPriority;
}

/** The outcome of settling a call. */
export interface Settlement {
  usageSource: UsageSource;
  /** Cost of the actual usage at list price (an estimate); undefined for an unpriced model. */
  actualCostUsd: number | undefined;
  /** `actualCostUsd − estimatedCostUsd`. */
  costDeltaUsd: number | undefined;
  /** False when the reservation had already ended (lease expired, or settled before). */
  applied: boolean;
  /** Least headroom left over the budgets the call touched, as a fraction of the limit; undefined without budgets. */
  minHeadroomRatio: number | undefined;
}

/** An admitted call. End it exactly once with `settle()` or `release()`; repeats are harmless no-ops. */
export interface Admission {
  readonly callId: string;
  readonly estimate: Readonly<CallEstimate>;
  readonly scope: Readonly<CallScope>;
  readonly waitMillis: number;
  /** Budget instances the call reserved against. */
  readonly budgets: readonly BudgetTouched[];
  /** Limiters that admitted the call. */
  readonly limiterKeys: readonly string[];
  /** Least headroom left after the reservation, as a fraction of the limit; undefined without budgets. */
  readonly minHeadroomRatio: number | undefined;
  /**
   * Charges the call's actual usage and frees the rest of its reservation. Unknown counts
   * (`undefined`) are charged at their pre-call worst case.
   */
  settle(usage: TokenUsage | undefined, source?: Exclude<UsageSource, 'reservation'>): Promise<Settlement>;
  /** Frees the whole reservation: the provider did no billable work (e.g. the connection was refused). */
  release(reason: string): Promise<void>;
}

export interface RunOptions<T> extends CallOptions {
  /** Reads usage from the call's result; return undefined when the provider reported none. */
  usage?: (result: T) => TokenUsage | undefined;
}

/** The gate: decides whether a call may go out, and settles its cost when it is done. */
export interface Guard {
  /**
   * Admits a call or throws `BudgetExceededError`, `RateLimitedError` or
   * `UnknownModelPriceError` — always before the request exists.
   */
  admit(call: LlmCallDescriptor, options?: CallOptions): Promise<Admission>;
  /**
   * Admits, runs `fn`, and settles from `options.usage(result)`; if `fn` throws, the
   * reservation is released and the error rethrown.
   */
  run<T>(
    call: LlmCallDescriptor,
    fn: (admission: Admission) => Promise<T>,
    options?: RunOptions<T>,
  ): Promise<T>;
  /** Folds rate-limit headers or a 429 `retry-after` from the provider into the local limiter. */
  applyProviderFeedback(feedback: ProviderFeedback): void;
  /** Adds a decision hook; returns a function that removes it. */
  onDecision(hook: DecisionHook): () => void;
  /** Current spend of one budget instance (USD figures are estimates). */
  budgetStatus(
    budgetId: string,
    scope?: CallScope & { provider?: string; model?: string },
  ): Promise<BudgetStatus[]>;
  /** Latest known state of every budget instance this process has used (for gauges). */
  budgetInstances(): BudgetInstanceState[];
  /** The price table in use, overrides applied. */
  readonly prices: PriceTable;
  /** Stops timers and closes the limiter and ledger. */
  close(): Promise<void>;
}

export interface BudgetStatus {
  budgetId: string;
  unit: 'usd' | 'tokens' | 'requests';
  limit: number;
  spent: number;
  reserved: number;
  resetAtMs: number;
}

/** A call is reported as `throttled` when it queued at least this long for rate-limit capacity. */
const THROTTLE_REPORT_MILLIS = 20;

interface OpenCall {
  admission: GuardAdmission;
  lines: PlannedLine[];
}

/**
 * Creates the gate. Validates `config` first and throws `TollgateConfigError` naming the
 * offending field.
 *
 * Order of checks for each call, and why:
 * 1. attribution and estimate — pure and local;
 * 2. budget pre-check — an exhausted budget rejects without taking rate-limit capacity;
 * 3. rate-limit wait — no budget is held while the call queues;
 * 4. atomic reservation across every applicable budget — all or nothing;
 * 5. the call runs; settle or release ends the reservation.
 *
 * @example
 * ```ts
 * const guard = createGuard({
 *   budgets: [{ id: 'daily', limit: { usd: 25 }, window: 'day', alertAt: [0.5, 0.8, 1] }],
 *   rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 500, tpm: 200_000 }],
 * });
 * ```
 */
export function createGuard(config: GuardConfig = {}): Guard {
  return new GuardImpl(config);
}

class GuardImpl implements Guard {
  readonly prices: PriceTable;
  private readonly config: NormalizedGuardConfig;
  private readonly ledger: BudgetLedger;
  private readonly limiter: RateLimiter;
  private readonly plan: BudgetPlan;
  private readonly events: DecisionEmitter;
  private readonly openCalls = new Map<string, OpenCall>();
  private readonly instances = new BudgetInstances();
  private readonly leaseTimer: NodeJS.Timeout;
  private readonly estimator: GuardConfig['estimator'];

  constructor(config: GuardConfig) {
    this.config = normalizeGuardConfig(config);
    this.estimator = config.estimator;
    this.prices = loadPrices(this.config);
    this.ledger = config.ledger ?? new MemoryLedger({ leaseExpiry: this.config.leaseExpiry });
    this.limiter = new RateLimiter(this.config.rateLimits);
    this.plan = new BudgetPlan(this.config.budgets);
    this.events = new DecisionEmitter(this.config.hooks);
    this.leaseTimer = setInterval(
      () => void this.collectExpired(),
      Math.min(1000, this.config.leaseMillis / 4),
    );
    this.leaseTimer.unref();
    this.reportPriceTableAge();
  }

  onDecision(hook: DecisionHook): () => void {
    return this.events.subscribe(hook);
  }

  async admit(call: LlmCallDescriptor, options: CallOptions = {}): Promise<Admission> {
    const callId = randomUUID();
    const scope = mergeScopes(
      currentScope(),
      options.priority ? { ...options.scope, priority: options.priority } : options.scope,
    );
    const estimate = estimateCall(call, {
      prices: this.prices,
      defaultMaxOutputTokens: this.config.defaultMaxOutputTokens,
      unknownModel: this.config.unknownModel,
      estimator: this.estimator,
    });
    const base: CallDecisionBase = {
      callId,
      timestampMs: Date.now(),
      provider: call.provider,
      model: call.model,
      pricedModel: estimate.pricedModel,
      scope,
      estimatedInputTokens: estimate.estimatedInputTokens,
      estimateMethod: estimate.estimateMethod,
      maxOutputTokens: estimate.maxOutputTokens,
      estimatedCostUsd: estimate.worstCaseUsd,
      costLabel: 'estimate',
      waitMillis: 0,
    };
    const subject: BudgetSubject = {
      provider: call.provider,
      model: estimate.pricedModel ?? call.model.toLowerCase(),
      scope,
    };
    const budgets = this.plan.applicable(subject);
    if (estimate.price === undefined) {
      const usdBudgets = budgets.filter((budget) => budget.limits.some((limit) => limit.unit === 'usd'));
      if (usdBudgets.length > 0) {
        const ids = usdBudgets.map((budget) => budget.id);
        this.events.emit({ ...base, type: 'unpriced-model', budgetIds: ids });
        throw new UnknownModelPriceError(call.model, ids);
      }
    }
    const amounts: LedgerAmounts = {
      usd: Math.ceil((estimate.worstCaseUsd ?? 0) * NANO_USD_PER_USD),
      tokens: estimate.worstCaseTokens,
      requests: 1,
    };

    if (budgets.length > 0) {
      const lines = this.plan.lines(budgets, subject, amounts, this.ledger.now());
      const states = await this.ledger.peek(lines.map((planned) => planned.line));
      const failed = states.findIndex(
        (state, index) => state.spent + state.reserved + lines[index]!.line.amount > state.limit,
      );
      if (failed >= 0) throw this.budgetExceeded(base, lines[failed]!, states[failed]!);
    }

    let permit: LimiterPermit;
    try {
      permit = await this.limiter.acquire({
        provider: call.provider,
        model: call.model,
        canonicalModel: estimate.pricedModel,
        tenant: scope.tenant,
        weightTokens: estimate.worstCaseTokens,
        priority: scope.priority ?? 'interactive',
      });
    } catch (error) {
      if (RateLimitedError.isInstance(error)) {
        this.events.emit({
          ...base,
          type: 'rate-limited',
          waitMillis: Date.now() - base.timestampMs,
          limiterKey: error.limiterKey,
          reason: error.reason,
          retryAfterMs: error.retryAfterMs,
        });
      }
      throw error;
    }
    base.waitMillis = permit.waitMillis;
    if (permit.waitMillis >= THROTTLE_REPORT_MILLIS) {
      this.events.emit({ ...base, type: 'throttled', limiterKeys: permit.limiterKeys });
    }

    // The window may have rolled while the call queued: plan the lines again at reservation time.
    const lines = budgets.length > 0 ? this.plan.lines(budgets, subject, amounts, this.ledger.now()) : [];
    let headroom: number | undefined;
    if (lines.length > 0) {
      let result: Awaited<ReturnType<BudgetLedger['reserve']>>;
      try {
        result = await this.ledger.reserve({
          reservationId: callId,
          lines: lines.map((planned) => planned.line),
          leaseMillis: this.config.leaseMillis,
        });
      } catch (error) {
        permit.refund();
        throw error;
      }
      if (!result.ok) {
        permit.refund();
        throw this.budgetExceeded(base, lines[result.failedLine]!, result.state);
      }
      this.instances.record(lines, result.lines);
      headroom = minHeadroomRatio(result.lines);
    }

    const admission = new GuardAdmission(this, callId, estimate, scope, base, lines, permit, headroom);
    this.openCalls.set(callId, { admission, lines });
    this.events.emit({
      ...base,
      type: 'allowed',
      reservationId: callId,
      budgets: touched(lines),
      limiterKeys: permit.limiterKeys,
    });
    return admission;
  }

  async run<T>(
    call: LlmCallDescriptor,
    fn: (admission: Admission) => Promise<T>,
    options: RunOptions<T> = {},
  ): Promise<T> {
    const admission = await this.admit(call, options);
    let result: T;
    try {
      result = await fn(admission);
    } catch (error) {
      await admission.release(error instanceof Error ? `call failed: ${error.message}` : 'call failed');
      throw error;
    }
    await admission.settle(options.usage ? options.usage(result) : undefined);
    return result;
  }

  applyProviderFeedback(feedback: ProviderFeedback): void {
    const canonical = this.prices.resolve(feedback.model)?.model ?? feedback.model.toLowerCase();
    void this.limiter.applyFeedback({ ...feedback, model: canonical }).catch(() => {});
  }

  async budgetStatus(
    budgetId: string,
    scope: CallScope & { provider?: string; model?: string } = {},
  ): Promise<BudgetStatus[]> {
    const budget = this.config.budgets.find((candidate) => candidate.id === budgetId);
    if (!budget) throw new TollgateConfigError('budgetId', 'names no configured budget', budgetId);
    const subject: BudgetSubject = { provider: scope.provider ?? '', model: scope.model ?? '', scope };
    const lines = this.plan.lines([budget], subject, { usd: 0, tokens: 0, requests: 0 }, this.ledger.now());
    const states = await this.ledger.peek(lines.map((planned) => planned.line));
    return lines.map((planned, index) => {
      const state = states[index]!;
      return {
        budgetId,
        unit: planned.unit,
        limit: toDisplayUnits(planned.unit, state.limit),
        spent: toDisplayUnits(planned.unit, state.spent),
        reserved: toDisplayUnits(planned.unit, state.reserved),
        resetAtMs: state.resetAtMs,
      };
    });
  }

  budgetInstances(): BudgetInstanceState[] {
    return this.instances.snapshot(this.ledger.now());
  }

  async close(): Promise<void> {
    clearInterval(this.leaseTimer);
    await this.limiter.close();
    await this.ledger.close();
  }

  /** Ends an admission: settles (or releases) its reservation and emits the events. Called by `GuardAdmission`. */
  async finish(
    admission: GuardAdmission,
    usage: TokenUsage | undefined,
    source: UsageSource | 'released',
    reason: string,
  ): Promise<Settlement> {
    const open = this.openCalls.get(admission.callId);
    this.openCalls.delete(admission.callId);
    admission.permit.release();
    const lines = open?.lines ?? admission.lines;
    const durationMillis = Date.now() - admission.admittedAtMs;

    if (source === 'released') {
      const result = lines.length > 0 ? await this.ledger.release(admission.callId) : undefined;
      if (result?.applied) this.instances.record(lines, result.lines);
      this.events.emit({
        ...admission.base,
        type: 'released',
        reservationId: admission.callId,
        reason,
        applied: result?.applied ?? true,
      });
      return {
        usageSource: 'reservation',
        actualCostUsd: undefined,
        costDeltaUsd: undefined,
        applied: result?.applied ?? true,
        minHeadroomRatio: result?.applied ? minHeadroomRatio(result.lines) : undefined,
      };
    }

    const effective = usageOrWorstCase(usage, admission.estimate);
    const usageSource: UsageSource = usage === undefined ? 'reservation' : source;
    const costUsd = actualCostUsd(effective, admission.estimate);
    const actual: LedgerAmounts = {
      // Nothing reported: charge exactly what was reserved rather than a recomputation that could differ by rounding.
      usd: usage === undefined ? -1 : Math.round((costUsd ?? 0) * NANO_USD_PER_USD),
      tokens: effective.inputTokens + effective.outputTokens,
      requests: 1,
    };
    const amounts = lines.map((planned) =>
      actual[planned.unit] < 0 ? planned.line.amount : actual[planned.unit],
    );
    const result = lines.length > 0 ? await this.ledger.settle(admission.callId, amounts) : undefined;
    const applied = result?.applied ?? true;
    const costDeltaUsd =
      costUsd !== undefined && admission.estimate.worstCaseUsd !== undefined
        ? costUsd - admission.estimate.worstCaseUsd
        : undefined;
    this.events.emit({
      ...admission.base,
      type: 'settled',
      reservationId: admission.callId,
      usage: effective,
      usageSource,
      actualCostUsd: costUsd,
      costDeltaUsd,
      budgets: lines.map((planned, index) => ({
        budgetId: planned.budgetId,
        unit: planned.unit,
        scope: planned.scope,
        reserved: toDisplayUnits(planned.unit, amounts[index]!),
      })),
      applied,
      durationMillis,
    });
    if (result) this.emitCrossings(result.crossed, lines, admission.callId);
    if (result?.applied) this.instances.record(lines, result.lines);
    return {
      usageSource,
      actualCostUsd: costUsd,
      costDeltaUsd,
      applied,
      minHeadroomRatio: result?.applied ? minHeadroomRatio(result.lines) : undefined,
    };
  }

  private budgetExceeded(
    base: CallDecisionBase,
    planned: PlannedLine,
    state: { limit: number; spent: number; reserved: number; resetAtMs: number },
  ): BudgetExceededError {
    const details = {
      budgetId: planned.budgetId,
      scope: planned.scope,
      unit: planned.unit,
      limit: toDisplayUnits(planned.unit, state.limit),
      spent: toDisplayUnits(planned.unit, state.spent),
      reserved: toDisplayUnits(planned.unit, state.reserved),
      requested: toDisplayUnits(planned.unit, planned.line.amount),
      resetAtMs: state.resetAtMs,
    };
    const { scope: budgetScope, ...figures } = details;
    this.events.emit({ ...base, type: 'budget-exceeded', ...figures, budgetScope });
    return new BudgetExceededError(details);
  }

  private emitCrossings(
    crossed: readonly ThresholdCrossing[],
    lines: readonly PlannedLine[] | undefined,
    callId: string | undefined,
  ): void {
    for (const crossing of crossed) {
      const planned = lines?.[crossing.line];
      const parsed = planned ?? parseCounterKey(crossing.key);
      this.events.emit({
        type: 'threshold-crossed',
        timestampMs: Date.now(),
        callId,
        budgetId: parsed.budgetId,
        unit: parsed.unit,
        scope: parsed.scope,
        threshold: crossing.threshold,
        spent: toDisplayUnits(parsed.unit, crossing.spent),
        limit: toDisplayUnits(parsed.unit, crossing.limit),
        windowStartMs: parsed.windowStartMs,
        costLabel: 'estimate',
      });
    }
  }

  private async collectExpired(): Promise<void> {
    let expired: ExpiredReservation[];
    try {
      expired = await this.ledger.collectExpired();
    } catch {
      return; // The next tick retries; the store's own lease handling still applies.
    }
    for (const reservation of expired) {
      const open = this.openCalls.get(reservation.reservationId);
      this.openCalls.delete(reservation.reservationId);
      open?.admission.expire();
      const budgets: BudgetTouched[] = reservation.keys.map((key, index) => {
        const parsed = parseCounterKey(key);
        return {
          budgetId: parsed.budgetId,
          unit: parsed.unit,
          scope: parsed.scope,
          reserved: toDisplayUnits(parsed.unit, reservation.charged[index] ?? 0),
        };
      });
      this.events.emit({
        type: 'lease-expired',
        timestampMs: Date.now(),
        callId: open ? reservation.reservationId : undefined,
        reservationId: reservation.reservationId,
        policy: reservation.policy,
        budgets,
      });
      this.emitCrossings(reservation.crossed, open?.lines, open ? reservation.reservationId : undefined);
    }
  }

  private reportPriceTableAge(): void {
    const ageDays = this.prices.ageDays(Date.now());
    if (ageDays <= this.config.priceTableMaxAgeDays) return;
    this.events.emit({
      type: 'price-table-stale',
      timestampMs: Date.now(),
      checkedAt: this.prices.checkedAt,
      ageDays,
      maxAgeDays: this.config.priceTableMaxAgeDays,
    });
  }
}

class GuardAdmission implements Admission {
  readonly admittedAtMs = Date.now();
  private ended: Promise<Settlement> | undefined;

  constructor(
    private readonly guard: GuardImpl,
    readonly callId: string,
    readonly estimate: CallEstimate,
    readonly scope: Readonly<CallScope>,
    readonly base: CallDecisionBase,
    readonly lines: PlannedLine[],
    readonly permit: LimiterPermit,
    readonly minHeadroomRatio: number | undefined,
  ) {}

  get budgets(): BudgetTouched[] {
    return touched(this.lines);
  }

  get limiterKeys(): readonly string[] {
    return this.permit.limiterKeys;
  }

  get waitMillis(): number {
    return this.base.waitMillis;
  }

  settle(
    usage: TokenUsage | undefined,
    source: Exclude<UsageSource, 'reservation'> = 'provider',
  ): Promise<Settlement> {
    this.ended ??= this.guard.finish(this, usage, source, '');
    return this.ended;
  }

  async release(reason: string): Promise<void> {
    this.ended ??= this.guard.finish(this, undefined, 'released', reason);
    await this.ended;
  }

  /** The lease ran out: free the limiter slot; a later settle or release reports `applied: false`. */
  expire(): void {
    this.permit.release();
  }
}

function loadPrices(config: NormalizedGuardConfig): PriceTable {
  let table = PriceTable.bundled();
  if (config.pricesFile) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(config.pricesFile, 'utf8'));
    } catch (error) {
      throw new TollgateConfigError(
        'prices.file',
        `could not be read as JSON (${(error as Error).message})`,
        config.pricesFile,
      );
    }
    const models = (parsed as { models?: unknown })?.models ?? parsed;
    table = withOverridesAt(table, models, 'prices.file');
  }
  if (config.priceOverrides) table = withOverridesAt(table, config.priceOverrides, 'prices.overrides');
  return table;
}

function withOverridesAt(table: PriceTable, overrides: unknown, field: string): PriceTable {
  try {
    return table.withOverrides(overrides as Parameters<PriceTable['withOverrides']>[0]);
  } catch (error) {
    throw new TollgateConfigError(field, (error as Error).message, overrides);
  }
}
