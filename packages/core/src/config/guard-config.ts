import type { WebhookConfig } from '../alerts/webhook-config';
import type { BudgetConfig } from '../budgets/budget-config';
import type { BudgetLedger, LeaseExpiryPolicy } from '../budgets/budget-ledger';
import type { CacheConfig } from '../cache/cache-config';
import type { DecisionHook } from '../events/decision-events';
import type { LimiterStore } from '../limits/limiter-store';
import type { RateLimitConfig } from '../limits/rate-limit-config';
import type { CircuitBreakerConfig } from '../policies/circuit-breaker-config';
import type { DegradationRule } from '../policies/degradation-rule';
import type { LoopRuleConfig } from '../policies/loop-rule';
import type { ModelPriceOverride } from '../pricing/model-price';
import type { GuardEstimatorOptions } from './guard-estimator-options';

/** Per-million-token prices charged for a model the price table does not know. */
export interface FallbackPrice {
  input: number;
  output: number;
  /**
   * The most output tokens one response can have: reserved for a call that sets no cap.
   * Without it, such a call under a token or USD budget is refused with `UnboundedOutputError`
   * (unless `defaultMaxOutputTokens` sends a cap).
   */
  maxOutputTokens?: number;
}

/**
 * A self-hosted OpenAI-compatible server (vLLM, Ollama, LiteLLM, …) reached through the `openai`
 * client: calls whose client base URL falls under `baseURL` carry `name` as their provider, and
 * are priced from `prices`.
 */
export interface ProviderConfig {
  /**
   * `gen_ai.provider.name` of its calls, and what budgets, rate limits and circuit breakers match
   * with `provider`. Lower case (`a-z`, `0-9`, `.`, `_`, `-`), unique, and not a built-in name
   * such as `openai`.
   */
  name: string;
  /**
   * The base URL its clients are built with, e.g. `http://localhost:11434/v1`. A client matches
   * when its base URL is this one or sits under it (a path prefix); both are compared without
   * trailing slash and with the default port written out. The longest matching `baseURL` wins.
   */
  baseURL: string;
  /**
   * USD per 1M tokens, keyed by model id as in `prices.overrides` (each entry needs `input` and
   * `output`; zero is allowed), plus `'*'` for every model not listed. Only these prices apply:
   * a model not listed, with no `'*'`, follows `unknownModel`.
   * @default the guard's price table (for a proxy in front of hosted models, e.g. LiteLLM)
   */
  prices?: Readonly<Record<string, ModelPriceOverride>>;
}

/** Configuration of `createGuard()`. Every field is optional; invalid values throw `TollgateConfigError` naming the field. */
export interface GuardConfig {
  /** Spending limits. A call must fit every budget that applies to it. @default [] */
  budgets?: readonly BudgetConfig[];
  /** Client-side rate limits. @default [] */
  rateLimits?: readonly RateLimitConfig[];
  /** Receives every decision event. Exceptions and rejections are caught and logged, never thrown into the call. */
  onDecision?: DecisionHook | readonly DecisionHook[];
  /**
   * Price table changes without a code change: `overrides` merges over or adds models;
   * `file` names a JSON file with the same shape (read once at startup). The
   * `TOLLGATE_PRICES_FILE` environment variable is used when `file` is not set.
   */
  prices?: { overrides?: Readonly<Record<string, ModelPriceOverride>>; file?: string };
  /** Self-hosted OpenAI-compatible servers, named by base URL and priced by their own figures. @default [] */
  providers?: readonly ProviderConfig[];
  /**
   * Calls to a model with no price, when a USD budget applies: `'reject'` throws
   * `UnknownModelPriceError` before the request is sent; `{ fallback }` charges the given prices
   * (and reserves `fallback.maxOutputTokens` for a call that sets no cap).
   * @default 'reject'
   */
  unknownModel?: 'reject' | { fallback: FallbackPrice };
  /**
   * What a call whose request sets no output cap (`max_tokens` / `max_completion_tokens` /
   * `max_output_tokens`) reserves, so that the reservation always bounds what the provider
   * can bill:
   * - unset: the model's maximum output from the price table; the request is sent unchanged.
   * - a number: that many output tokens (capped by the model's maximum), and the instrumentation
   *   sends it as the request's cap (`max_completion_tokens` for OpenAI chat, `max_tokens` for
   *   other OpenAI-compatible chat and Anthropic, `max_output_tokens` for Responses), so the
   *   provider stops there. Calls through `guard.admit()`/`guard.run()` must send
   *   `admission.outputCapToSend` themselves (see `withOutputCap()`).
   * A request that sets its own cap reserves that cap and is never changed.
   * @default undefined (reserve the model's maximum output)
   */
  defaultMaxOutputTokens?: number;
  /** How long a reservation may stay open before it expires. @default 600_000 (10 minutes) */
  leaseMillis?: number;
  /** What an expired reservation costs. @default 'charge-reserved' */
  leaseExpiry?: LeaseExpiryPolicy;
  /** Emit a `price-table-stale` event at startup when the price table was checked longer ago than this. @default 90 */
  priceTableMaxAgeDays?: number;
  /** Token estimation knobs, and which tokenizers to build after start-up (docs/token-estimation.md). */
  estimator?: GuardEstimatorOptions;
  /** Rules that act before a budget runs out: fall back to a cheaper model, defer background work, or reject a scope. @default [] */
  policies?: readonly DegradationRule[];
  /**
   * Runaway-loop rules: refuse a request sent too often in a short window, per scope, before
   * anything is reserved or sent (`LoopDetectedError`). Counted in this process. @default []
   */
  loops?: readonly LoopRuleConfig[];
  /** Circuit breakers per provider and model, on error rate, latency or spend rate. @default [] */
  circuitBreakers?: readonly CircuitBreakerConfig[];
  /** Threshold alerts (`alertAt`) are always decision events; `webhook` also POSTs them as JSON. */
  alerts?: { webhook?: WebhookConfig };
  /** Where budgets live. @default an in-memory ledger (one process) */
  ledger?: BudgetLedger;
  /**
   * Where rate-limit buckets live: a shared store in `datastore` shares them between processes.
   * @default local buckets (one process)
   */
  limiter?: { datastore?: LimiterStore };
  /**
   * An exact-match response cache in front of the gate: a hit sends nothing, reserves nothing
   * and costs nothing. Nothing is cached unless a rule here or the call (`withScope({ cache })`)
   * asks. See docs/cache.md. @default no rules; an in-process store made on first use
   */
  cache?: CacheConfig;
}
