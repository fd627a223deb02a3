import type { BudgetLedger, LeaseExpiryPolicy } from '../budgets/budget-ledger';
import type { NormalizedBudget } from '../budgets/normalized-budget';
import type { NormalizedCacheConfig } from '../cache/cache-config';
import { TollgateConfigError } from '../errors/config-error';
import type { DecisionHook } from '../events/decision-events';
import type { NormalizedRateLimit } from '../limits/rate-limit-rules';
import type { NormalizedCircuitRule } from '../policies/circuit-breaker';
import type { DegradationRule } from '../policies/degradation-rule';
import type { NormalizedLoopRule } from '../policies/loop-rule';
import type { PriceTable } from '../pricing/price-table';
import { expectKnownKeys, expectOneOf, expectRecord, optionalNumber } from './config-reader';
import type { ConfiguredProviders } from './configured-providers';
import type { FallbackPrice, GuardConfig } from './guard-config';
import type { NormalizedGuardEstimator } from './guard-estimator-options';
import { type NormalizedWebhook, normalizeAlerts } from './normalize-alerts';
import { normalizeBudgets } from './normalize-budgets';
import { normalizeCache } from './normalize-cache';
import { normalizeCircuitBreakers } from './normalize-circuit-breakers';
import { normalizeEstimator } from './normalize-estimator';
import { normalizeLoops } from './normalize-loops';
import { checkFallbackTargets, normalizePolicies } from './normalize-policies';
import { loadPrices, normalizePriceSources } from './normalize-prices';
import { normalizeProviders } from './normalize-providers';
import { normalizeRateLimits } from './normalize-rate-limits';
import { normalizeUnknownModel } from './normalize-unknown-model';

export interface NormalizedGuardConfig {
  budgets: readonly NormalizedBudget[];
  rateLimits: readonly NormalizedRateLimit[];
  hooks: readonly DecisionHook[];
  /** The price table in use, overrides applied. */
  prices: PriceTable;
  /** Self-hosted servers by base URL, with their own prices. */
  providers: ConfiguredProviders;
  unknownModel: 'reject' | { fallback: FallbackPrice };
  /** Undefined: reserve the model's maximum output for calls that set no cap. */
  defaultMaxOutputTokens: number | undefined;
  leaseMillis: number;
  leaseExpiry: LeaseExpiryPolicy;
  priceTableMaxAgeDays: number;
  estimator: NormalizedGuardEstimator;
  policies: readonly DegradationRule[];
  circuitBreakers: readonly NormalizedCircuitRule[];
  loops: readonly NormalizedLoopRule[];
  webhook: NormalizedWebhook | undefined;
  /** The ledger given; undefined for the in-memory default. */
  ledger: BudgetLedger | undefined;
  limiter: GuardConfig['limiter'];
  /** The response cache's rules and store. */
  cache: NormalizedCacheConfig;
}

const TOP_LEVEL_KEYS = [
  'budgets',
  'rateLimits',
  'onDecision',
  'prices',
  'providers',
  'unknownModel',
  'defaultMaxOutputTokens',
  'leaseMillis',
  'leaseExpiry',
  'priceTableMaxAgeDays',
  'estimator',
  'ledger',
  'limiter',
  'policies',
  'circuitBreakers',
  'loops',
  'alerts',
  'cache',
];

/** Validates a guard config and fills in defaults. Throws `TollgateConfigError` naming the first bad field. */
export function normalizeGuardConfig(
  config: GuardConfig,
  env: NodeJS.ProcessEnv = process.env,
): NormalizedGuardConfig {
  const root = expectRecord(config ?? {}, 'config');
  expectKnownKeys(root, '', TOP_LEVEL_KEYS);
  const budgets = normalizeBudgets(root.budgets);
  const rateLimits = normalizeRateLimits(root.rateLimits);
  const hooks = normalizeHooks(root.onDecision);
  const priceSources = normalizePriceSources(root.prices, env);
  const providers = normalizeProviders(root.providers);
  checkLedger(root.ledger);
  checkLimiter(root.limiter);

  const shape = {
    budgets,
    rateLimits,
    hooks,
    unknownModel: normalizeUnknownModel(root.unknownModel),
    defaultMaxOutputTokens: optionalNumber(root.defaultMaxOutputTokens, 'defaultMaxOutputTokens', {
      integer: true,
      min: 1,
    }),
    leaseMillis: optionalNumber(root.leaseMillis, 'leaseMillis', { integer: true, min: 1000 }) ?? 600_000,
    leaseExpiry:
      root.leaseExpiry === undefined
        ? 'charge-reserved'
        : expectOneOf(root.leaseExpiry, 'leaseExpiry', ['charge-reserved', 'release']),
    policies: normalizePolicies(root.policies, budgets),
    circuitBreakers: normalizeCircuitBreakers(root.circuitBreakers),
    loops: normalizeLoops(root.loops),
    webhook: normalizeAlerts(root.alerts),
    cache: normalizeCache(root.cache),
    priceTableMaxAgeDays:
      optionalNumber(root.priceTableMaxAgeDays, 'priceTableMaxAgeDays', { min: 0, minInclusive: false }) ??
      90,
  };
  const estimator = normalizeEstimator(root.estimator);
  // Files are read only once every option is known to be well-formed.
  const prices = loadPrices(priceSources);
  checkFallbackTargets(root.policies, budgets, shape.unknownModel, prices, providers);
  checkLeaseExpiry(config);
  return { ...shape, prices, providers, estimator, ledger: config.ledger, limiter: config.limiter };
}

function normalizeHooks(value: unknown): DecisionHook[] {
  const hooks = value === undefined ? [] : Array.isArray(value) ? value : [value];
  hooks.forEach((hook, index) => {
    if (typeof hook !== 'function') {
      throw new TollgateConfigError(
        Array.isArray(value) ? `onDecision[${index}]` : 'onDecision',
        'must be a function',
        hook,
      );
    }
  });
  return hooks as DecisionHook[];
}

function checkLedger(value: unknown): void {
  if (value === undefined) return;
  const ledger = expectRecord(value, 'ledger');
  for (const method of ['now', 'peek', 'reserve', 'settle', 'release', 'collectExpired', 'close']) {
    if (typeof ledger[method] !== 'function')
      throw new TollgateConfigError(
        `ledger.${method}`,
        'must be a function (a BudgetLedger)',
        ledger[method],
      );
  }
}

function checkLimiter(value: unknown): void {
  if (value === undefined) return;
  const limiter = expectRecord(value, 'limiter');
  expectKnownKeys(limiter, 'limiter', ['datastore']);
  if (limiter.datastore !== undefined) {
    const datastore = expectRecord(limiter.datastore, 'limiter.datastore');
    if (typeof datastore.createLimiter !== 'function')
      throw new TollgateConfigError(
        'limiter.datastore.createLimiter',
        'must be a function (a LimiterStore)',
        datastore.createLimiter,
      );
  }
}

/** The lease policy lives in a given ledger; a guard setting that disagrees with it would be silently ignored. */
function checkLeaseExpiry(config: GuardConfig): void {
  const ledgerPolicy = config.ledger?.leaseExpiry;
  if (config.leaseExpiry !== undefined && ledgerPolicy !== undefined && config.leaseExpiry !== ledgerPolicy) {
    throw new TollgateConfigError(
      'leaseExpiry',
      `differs from the ledger's own policy ('${ledgerPolicy}'); set it on the ledger`,
      config.leaseExpiry,
    );
  }
}
