import { diag } from '@opentelemetry/api';
import { WebhookNotifier } from '../alerts/webhook-notifier';
import type { BudgetInstanceState } from '../budgets/budget-instances';
import { type CacheableRequest, ResponseCache } from '../cache/response-cache';
import type { LlmCallDescriptor } from '../call/llm-call';
import type { GuardConfig } from '../config/guard-config';
import { normalizeGuardConfig } from '../config/normalize-guard-config';
import type { DecisionHook, DecisionType } from '../events/decision-events';
import type { ProviderFeedback } from '../limits/provider-feedback';
import { classifyFailure } from '../policies/classify-failure';
import type { PriceTable } from '../pricing/price-table';
import type { CallScope, ScopeDimension } from '../scope/scope';
import { admitCall } from './admit-call';
import { readBudgetStatus } from './budget-status';
import { lookupCache } from './cache-lookup';
import { GuardRuntime } from './guard-runtime';
import type { Admission, BudgetStatus, CacheLookup, CallOptions, Guard, RunOptions } from './guard-types';
import { startLeaseExpiryTimer } from './lease-expiry';
import { warmUpGuardTokenizers } from './tokenizer-warm-up-plan';

export type {
  Admission,
  BudgetStatus,
  CacheLookup,
  CallOptions,
  Guard,
  RunOptions,
  Settlement,
} from './guard-types';

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
  readonly circuits: Guard['circuits'];
  readonly splitDimensions: readonly ScopeDimension[];
  private readonly runtime: GuardRuntime;
  private readonly leaseTimer: NodeJS.Timeout;
  private readonly webhook: WebhookNotifier | undefined;
  private readonly responseCache: ResponseCache;

  constructor(config: GuardConfig) {
    const runtime = new GuardRuntime(normalizeGuardConfig(config));
    const { config: normalized, breakers, events } = runtime;
    this.runtime = runtime;
    this.prices = runtime.prices;
    this.splitDimensions = [
      ...new Set<ScopeDimension>([
        ...normalized.budgets.flatMap((budget) => budget.per),
        ...normalized.loops.flatMap((rule) => rule.per),
        ...(normalized.rateLimits.some((rule) => rule.perTenant) ? (['tenant'] as const) : []),
      ]),
    ].filter((dimension) => dimension === 'tenant' || dimension === 'user' || dimension === 'feature');
    this.circuits = {
      open: (provider, model) =>
        breakers.forceOpen(provider.toLowerCase(), runtime.canonicalModel(model, provider.toLowerCase())),
      close: (provider, model) =>
        breakers.forceClose(provider.toLowerCase(), runtime.canonicalModel(model, provider.toLowerCase())),
      states: () => breakers.states(),
    };
    const webhookConfig = normalized.webhook;
    if (webhookConfig) {
      const notifier = new WebhookNotifier(webhookConfig);
      this.webhook = notifier;
      events.subscribe(
        (event) => {
          if (event.type === 'threshold-crossed') notifier.notify(event);
        },
        ['threshold-crossed'],
      );
    }
    this.responseCache = new ResponseCache(normalized.cache);
    this.leaseTimer = startLeaseExpiryTimer(runtime);
    warmUpGuardTokenizers(normalized);
    this.reportPriceTableAge();
  }

  providerAt(baseURL: string | undefined): string | undefined {
    return this.runtime.config.providers.nameAt(baseURL);
  }

  onDecision(hook: DecisionHook, types?: readonly DecisionType[]): () => void {
    return this.runtime.events.subscribe(hook, types);
  }

  admit(call: LlmCallDescriptor, options: CallOptions = {}): Promise<Admission> {
    return admitCall(this.runtime, call, options);
  }

  lookupCache(request: CacheableRequest, options: CallOptions = {}): Promise<CacheLookup> | undefined {
    return lookupCache(this.runtime, this.responseCache, request, options);
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
      await admission.release(
        error instanceof Error ? `call failed: ${error.message}` : 'call failed',
        classifyFailure(error),
      );
      throw error;
    }
    await admission.settle(options.usage ? options.usage(result) : undefined);
    return result;
  }

  applyProviderFeedback(feedback: ProviderFeedback): void {
    const canonical = this.runtime.canonicalModel(feedback.model, feedback.provider);
    // The limiter reports its own store failures; anything else is a bug to surface, never to swallow.
    void this.runtime.limiter.applyFeedback({ ...feedback, model: canonical }).catch((error: unknown) => {
      diag.error(`tollgate: applying provider feedback for ${feedback.provider}:${canonical} failed`, error);
    });
  }

  budgetStatus(
    budgetId: string,
    scope: CallScope & { provider?: string; model?: string } = {},
  ): Promise<BudgetStatus[]> {
    return readBudgetStatus(this.runtime, budgetId, scope);
  }

  budgetInstances(): BudgetInstanceState[] {
    return this.runtime.instances.snapshot(this.runtime.ledger.now());
  }

  async close(): Promise<void> {
    clearInterval(this.leaseTimer);
    await this.runtime.limiter.close();
    await this.runtime.ledger.close();
    await this.webhook?.close();
    await this.responseCache.close();
  }

  /** A `price-table-stale` event when the price table was checked longer ago than `priceTableMaxAgeDays`. */
  private reportPriceTableAge(): void {
    const { config, events } = this.runtime;
    const ageDays = this.prices.ageDays(Date.now());
    if (ageDays <= config.priceTableMaxAgeDays) return;
    events.emit({
      type: 'price-table-stale',
      timestampMs: Date.now(),
      checkedAt: this.prices.checkedAt,
      ageDays,
      maxAgeDays: config.priceTableMaxAgeDays,
    });
  }
}
