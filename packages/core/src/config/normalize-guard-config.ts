import type { BudgetMatch, BudgetWindow, CalendarWindow } from '../budgets/budget-config';
import type { LeaseExpiryPolicy } from '../budgets/budget-ledger';
import { BUDGET_UNIT_NAMES, BUDGET_UNITS, toLedgerLimit } from '../budgets/budget-units';
import { isValidTimeZone } from '../budgets/budget-window';
import type { NormalizedBudget } from '../budgets/normalized-budget';
import { TollgateConfigError } from '../errors/config-error';
import type { DecisionHook } from '../events/decision-events';
import type { NormalizedRateLimit } from '../limits/rate-limiter';
import type { NormalizedCircuitRule } from '../policies/circuit-breaker';
import type { DegradationRule } from '../policies/degradation-rule';
import { SCOPE_DIMENSIONS } from '../scope/scope';
import {
  expectArray,
  expectKnownKeys,
  expectOneOf,
  expectRecord,
  expectString,
  expectStringOrList,
  isRecord,
  optionalNumber,
} from './config-reader';
import type { FallbackPrice, GuardConfig } from './guard-config';

const CALENDAR_WINDOWS: readonly CalendarWindow[] = ['minute', 'hour', 'day', 'week', 'month'];

export interface NormalizedGuardConfig {
  budgets: readonly NormalizedBudget[];
  rateLimits: readonly NormalizedRateLimit[];
  hooks: readonly DecisionHook[];
  priceOverrides: Readonly<Record<string, unknown>> | undefined;
  pricesFile: string | undefined;
  unknownModel: 'reject' | { fallback: FallbackPrice };
  /** Undefined: reserve the model's maximum output for calls that set no cap. */
  defaultMaxOutputTokens: number | undefined;
  leaseMillis: number;
  leaseExpiry: LeaseExpiryPolicy;
  priceTableMaxAgeDays: number;
  policies: readonly DegradationRule[];
  circuitBreakers: readonly NormalizedCircuitRule[];
  webhook: NormalizedWebhook | undefined;
}

export interface NormalizedWebhook {
  url: string;
  headers: Readonly<Record<string, string>>;
  timeoutMillis: number;
  maxAttempts: number;
  closeTimeoutMillis: number;
}

const TOP_LEVEL_KEYS = [
  'budgets',
  'rateLimits',
  'onDecision',
  'prices',
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
  'alerts',
];

/** Validates a guard config and fills in defaults. Throws `TollgateConfigError` naming the first bad field. */
export function normalizeGuardConfig(
  config: GuardConfig,
  env: NodeJS.ProcessEnv = process.env,
): NormalizedGuardConfig {
  const root = expectRecord(config ?? {}, 'config');
  expectKnownKeys(root, '', TOP_LEVEL_KEYS);

  const budgets = expectArray(root.budgets, 'budgets').map((budget, index) =>
    normalizeBudget(budget, `budgets[${index}]`),
  );
  const seen = new Set<string>();
  budgets.forEach((budget, index) => {
    if (seen.has(budget.id))
      throw new TollgateConfigError(`budgets[${index}].id`, 'must be unique', budget.id);
    seen.add(budget.id);
  });

  const rateLimits = expectArray(root.rateLimits, 'rateLimits').map((rule, index) =>
    normalizeRateLimit(rule, `rateLimits[${index}]`),
  );

  const hookList =
    root.onDecision === undefined ? [] : Array.isArray(root.onDecision) ? root.onDecision : [root.onDecision];
  hookList.forEach((hook, index) => {
    if (typeof hook !== 'function') {
      throw new TollgateConfigError(
        Array.isArray(root.onDecision) ? `onDecision[${index}]` : 'onDecision',
        'must be a function',
        hook,
      );
    }
  });

  let priceOverrides: Record<string, unknown> | undefined;
  let pricesFile: string | undefined;
  if (root.prices !== undefined) {
    const prices = expectRecord(root.prices, 'prices');
    expectKnownKeys(prices, 'prices', ['overrides', 'file']);
    if (prices.overrides !== undefined) priceOverrides = expectRecord(prices.overrides, 'prices.overrides');
    if (prices.file !== undefined) pricesFile = expectString(prices.file, 'prices.file');
  }
  pricesFile ??= env.TOLLGATE_PRICES_FILE || undefined;

  if (root.ledger !== undefined) {
    const ledger = expectRecord(root.ledger, 'ledger');
    for (const method of ['now', 'peek', 'reserve', 'settle', 'release', 'collectExpired', 'close']) {
      if (typeof ledger[method] !== 'function')
        throw new TollgateConfigError(
          `ledger.${method}`,
          'must be a function (a BudgetLedger)',
          ledger[method],
        );
    }
  }

  if (root.limiter !== undefined) {
    const limiter = expectRecord(root.limiter, 'limiter');
    expectKnownKeys(limiter, 'limiter', ['datastore']);
    if (limiter.datastore !== undefined) {
      const datastore = expectRecord(limiter.datastore, 'limiter.datastore');
      expectOneOf(datastore.datastore, 'limiter.datastore.datastore', ['ioredis']);
    }
  }

  return {
    budgets,
    rateLimits,
    hooks: hookList as DecisionHook[],
    priceOverrides,
    pricesFile,
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
    circuitBreakers: expectArray(root.circuitBreakers, 'circuitBreakers').map((rule, index) =>
      normalizeCircuitBreaker(rule, `circuitBreakers[${index}]`),
    ),
    webhook: normalizeAlerts(root.alerts),
    priceTableMaxAgeDays:
      optionalNumber(root.priceTableMaxAgeDays, 'priceTableMaxAgeDays', { min: 0, minInclusive: false }) ??
      90,
  };
}

function normalizeBudget(value: unknown, field: string): NormalizedBudget {
  const budget = expectRecord(value, field);
  expectKnownKeys(budget, field, ['id', 'limit', 'window', 'timeZone', 'per', 'match', 'alertAt']);
  const id = expectString(budget.id, `${field}.id`);

  const limitRecord = expectRecord(budget.limit, `${field}.limit`);
  expectKnownKeys(limitRecord, `${field}.limit`, BUDGET_UNIT_NAMES);
  const limits = BUDGET_UNIT_NAMES.flatMap((unit) => {
    const amount = optionalNumber(limitRecord[unit], `${field}.limit.${unit}`, {
      integer: BUDGET_UNITS[unit].wholeLimits,
      min: 0,
      minInclusive: false,
      max: BUDGET_UNITS[unit].maxLimit,
    });
    if (amount === undefined) return [];
    return [{ unit, limit: toLedgerLimit(unit, amount) }];
  });
  if (limits.length === 0)
    throw new TollgateConfigError(
      `${field}.limit`,
      `must set at least one of ${BUDGET_UNIT_NAMES.join(', ')}`,
      budget.limit,
    );

  const window = normalizeWindow(budget.window, `${field}.window`);
  const timeZone = budget.timeZone === undefined ? 'UTC' : expectString(budget.timeZone, `${field}.timeZone`);
  if (!isValidTimeZone(timeZone))
    throw new TollgateConfigError(
      `${field}.timeZone`,
      'is not an IANA time zone this runtime knows',
      timeZone,
    );

  const per = expectArray(budget.per, `${field}.per`).map((dimension, index) =>
    expectOneOf(dimension, `${field}.per[${index}]`, SCOPE_DIMENSIONS),
  );
  if (new Set(per).size !== per.length)
    throw new TollgateConfigError(`${field}.per`, 'lists a dimension twice', budget.per);

  const match: Partial<Record<keyof BudgetMatch, readonly string[]>> = {};
  if (budget.match !== undefined) {
    const matchRecord = expectRecord(budget.match, `${field}.match`);
    expectKnownKeys(matchRecord, `${field}.match`, ['provider', 'model', 'tenant', 'user', 'feature']);
    for (const key of ['provider', 'model', 'tenant', 'user', 'feature'] as const) {
      const values = expectStringOrList(matchRecord[key], `${field}.match.${key}`);
      if (values)
        match[key] =
          key === 'model' || key === 'provider' ? values.map((item) => item.toLowerCase()) : values;
    }
  }

  const alertAt = expectArray(budget.alertAt, `${field}.alertAt`).map(
    (threshold, index) =>
      optionalNumber(threshold, `${field}.alertAt[${index}]`, {
        min: 0,
        minInclusive: false,
        max: 10,
      }) as number,
  );
  return { id, limits, window, timeZone, per, match, alertAt: [...new Set(alertAt)].sort((a, b) => a - b) };
}

function normalizeWindow(value: unknown, field: string): BudgetWindow {
  if (typeof value === 'string') return expectOneOf(value, field, CALENDAR_WINDOWS);
  if (isRecord(value)) {
    expectKnownKeys(value, field, ['rollingMillis']);
    const rollingMillis = optionalNumber(value.rollingMillis, `${field}.rollingMillis`, {
      integer: true,
      min: 1000,
    });
    if (rollingMillis === undefined)
      throw new TollgateConfigError(`${field}.rollingMillis`, 'is required for a rolling window', value);
    return { rollingMillis };
  }
  throw new TollgateConfigError(
    field,
    `must be one of ${CALENDAR_WINDOWS.map((w) => `'${w}'`).join(', ')} or { rollingMillis }`,
    value,
  );
}

function normalizeRateLimit(value: unknown, field: string): NormalizedRateLimit {
  const rule = expectRecord(value, field);
  expectKnownKeys(rule, field, [
    'provider',
    'model',
    'per',
    'rpm',
    'tpm',
    'maxConcurrent',
    'burstRequests',
    'burstTokens',
    'maxWaitMillis',
  ]);
  const provider = expectString(rule.provider, `${field}.provider`).toLowerCase();
  const models = expectStringOrList(rule.model, `${field}.model`)?.map((model) => model.toLowerCase());
  const per = expectArray(rule.per, `${field}.per`).map((dimension, index) =>
    expectOneOf(dimension, `${field}.per[${index}]`, ['tenant']),
  );
  const positiveInteger = { integer: true, min: 1 };
  const rpm = optionalNumber(rule.rpm, `${field}.rpm`, positiveInteger);
  const tpm = optionalNumber(rule.tpm, `${field}.tpm`, positiveInteger);
  const maxConcurrent = optionalNumber(rule.maxConcurrent, `${field}.maxConcurrent`, positiveInteger);
  if (rpm === undefined && tpm === undefined && maxConcurrent === undefined) {
    throw new TollgateConfigError(field, 'must set at least one of rpm, tpm, maxConcurrent', value);
  }
  const burstRequests = optionalNumber(rule.burstRequests, `${field}.burstRequests`, positiveInteger);
  if (burstRequests !== undefined && rpm === undefined)
    throw new TollgateConfigError(`${field}.burstRequests`, 'needs rpm', burstRequests);
  const burstTokens = optionalNumber(rule.burstTokens, `${field}.burstTokens`, positiveInteger);
  if (burstTokens !== undefined && tpm === undefined)
    throw new TollgateConfigError(`${field}.burstTokens`, 'needs tpm', burstTokens);
  const normalized: NormalizedRateLimit = {
    provider,
    models,
    perTenant: per.includes('tenant'),
    maxWaitMillis: optionalNumber(rule.maxWaitMillis, `${field}.maxWaitMillis`, { min: 0 }) ?? 10_000,
  };
  if (rpm !== undefined) normalized.rpm = rpm;
  if (tpm !== undefined) normalized.tpm = tpm;
  if (maxConcurrent !== undefined) normalized.maxConcurrent = maxConcurrent;
  if (rpm !== undefined) normalized.burstRequests = burstRequests ?? rpm;
  if (tpm !== undefined) normalized.burstTokens = burstTokens ?? tpm;
  return normalized;
}

function normalizeUnknownModel(value: unknown): 'reject' | { fallback: FallbackPrice } {
  if (value === undefined || value === 'reject') return 'reject';
  const policy = expectRecord(value, 'unknownModel');
  expectKnownKeys(policy, 'unknownModel', ['fallback']);
  const fallback = expectRecord(policy.fallback, 'unknownModel.fallback');
  expectKnownKeys(fallback, 'unknownModel.fallback', ['input', 'output', 'maxOutputTokens']);
  const input = optionalNumber(fallback.input, 'unknownModel.fallback.input', { min: 0 });
  const output = optionalNumber(fallback.output, 'unknownModel.fallback.output', { min: 0 });
  const maxOutputTokens = optionalNumber(fallback.maxOutputTokens, 'unknownModel.fallback.maxOutputTokens', {
    integer: true,
    min: 1,
  });
  if (input === undefined || output === undefined) {
    throw new TollgateConfigError(
      'unknownModel.fallback',
      'needs both input and output prices (per 1M tokens)',
      value,
    );
  }
  return { fallback: maxOutputTokens === undefined ? { input, output } : { input, output, maxOutputTokens } };
}

function normalizePolicies(value: unknown, budgets: readonly NormalizedBudget[]): DegradationRule[] {
  const ids = new Set<string>();
  return expectArray(value, 'policies').map((entry, index) => {
    const field = `policies[${index}]`;
    const rule = expectRecord(entry, field);
    expectKnownKeys(rule, field, ['id', 'when', 'action', 'models', 'match']);
    const id = expectString(rule.id, `${field}.id`);
    if (ids.has(id)) throw new TollgateConfigError(`${field}.id`, 'must be unique', id);
    ids.add(id);
    const when = expectRecord(rule.when, `${field}.when`);
    expectKnownKeys(when, `${field}.when`, ['budget', 'usedAbove']);
    const budget = expectString(when.budget, `${field}.when.budget`);
    if (!budgets.some((candidate) => candidate.id === budget)) {
      throw new TollgateConfigError(`${field}.when.budget`, 'names no configured budget', budget);
    }
    const usedAbove = optionalNumber(when.usedAbove, `${field}.when.usedAbove`, { min: 0, max: 10 });
    if (usedAbove === undefined)
      throw new TollgateConfigError(
        `${field}.when.usedAbove`,
        'is required (a fraction of the limit, e.g. 0.8)',
        when,
      );
    const action = expectOneOf(rule.action, `${field}.action`, ['fallback', 'defer', 'reject'] as const);
    const trigger = { budget, usedAbove };
    if (action === 'fallback') {
      const models = expectRecord(rule.models, `${field}.models`);
      if (Object.keys(models).length === 0)
        throw new TollgateConfigError(
          `${field}.models`,
          'must map at least one model to a cheaper one',
          models,
        );
      const mapping: Record<string, string> = {};
      for (const [from, to] of Object.entries(models))
        mapping[from.toLowerCase()] = expectString(to, `${field}.models.${from}`);
      return { id, when: trigger, action, models: mapping };
    }
    if (rule.models !== undefined)
      throw new TollgateConfigError(`${field}.models`, `only applies to action 'fallback'`, rule.models);
    if (action === 'defer') {
      if (rule.match !== undefined)
        throw new TollgateConfigError(`${field}.match`, `only applies to action 'reject'`, rule.match);
      return { id, when: trigger, action };
    }
    if (rule.match === undefined) return { id, when: trigger, action };
    const match = expectRecord(rule.match, `${field}.match`);
    expectKnownKeys(match, `${field}.match`, ['provider', 'model', 'tenant', 'user', 'feature']);
    const normalizedMatch: Record<string, readonly string[]> = {};
    for (const key of ['provider', 'model', 'tenant', 'user', 'feature'] as const) {
      const values = expectStringOrList(match[key], `${field}.match.${key}`);
      if (values) normalizedMatch[key] = values;
    }
    return { id, when: trigger, action, match: normalizedMatch };
  });
}

function normalizeCircuitBreaker(value: unknown, field: string): NormalizedCircuitRule {
  const rule = expectRecord(value, field);
  expectKnownKeys(rule, field, [
    'provider',
    'model',
    'windowMillis',
    'minCalls',
    'errorRateAbove',
    'latencyP95AboveMillis',
    'spendUsdPerMinuteAbove',
    'openMillis',
    'halfOpenProbes',
  ]);
  const normalized: NormalizedCircuitRule = {
    provider: expectString(rule.provider, `${field}.provider`).toLowerCase(),
    models: expectStringOrList(rule.model, `${field}.model`)?.map((model) => model.toLowerCase()),
    windowMillis:
      optionalNumber(rule.windowMillis, `${field}.windowMillis`, { integer: true, min: 1000 }) ?? 60_000,
    minCalls: optionalNumber(rule.minCalls, `${field}.minCalls`, { integer: true, min: 1 }) ?? 10,
    errorRateAbove: optionalNumber(rule.errorRateAbove, `${field}.errorRateAbove`, { min: 0, max: 1 }),
    latencyP95AboveMillis: optionalNumber(rule.latencyP95AboveMillis, `${field}.latencyP95AboveMillis`, {
      min: 0,
      minInclusive: false,
    }),
    spendUsdPerMinuteAbove: optionalNumber(rule.spendUsdPerMinuteAbove, `${field}.spendUsdPerMinuteAbove`, {
      min: 0,
      minInclusive: false,
    }),
    openMillis: optionalNumber(rule.openMillis, `${field}.openMillis`, { integer: true, min: 1 }) ?? 30_000,
    halfOpenProbes:
      optionalNumber(rule.halfOpenProbes, `${field}.halfOpenProbes`, { integer: true, min: 1 }) ?? 1,
  };
  if (
    normalized.errorRateAbove === undefined &&
    normalized.latencyP95AboveMillis === undefined &&
    normalized.spendUsdPerMinuteAbove === undefined
  ) {
    throw new TollgateConfigError(
      field,
      'must set at least one of errorRateAbove, latencyP95AboveMillis, spendUsdPerMinuteAbove',
      value,
    );
  }
  return normalized;
}

function normalizeAlerts(value: unknown): NormalizedWebhook | undefined {
  if (value === undefined) return undefined;
  const alerts = expectRecord(value, 'alerts');
  expectKnownKeys(alerts, 'alerts', ['webhook']);
  if (alerts.webhook === undefined) return undefined;
  const webhook = expectRecord(alerts.webhook, 'alerts.webhook');
  expectKnownKeys(webhook, 'alerts.webhook', [
    'url',
    'headers',
    'timeoutMillis',
    'maxAttempts',
    'closeTimeoutMillis',
  ]);
  const url = expectString(webhook.url, 'alerts.webhook.url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TollgateConfigError('alerts.webhook.url', 'is not a valid URL', url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TollgateConfigError('alerts.webhook.url', 'must be an http(s) URL', url);
  }
  const headers: Record<string, string> = {};
  if (webhook.headers !== undefined) {
    for (const [name, headerValue] of Object.entries(
      expectRecord(webhook.headers, 'alerts.webhook.headers'),
    )) {
      headers[name] = expectString(headerValue, `alerts.webhook.headers.${name}`);
    }
  }
  return {
    url,
    headers,
    timeoutMillis:
      optionalNumber(webhook.timeoutMillis, 'alerts.webhook.timeoutMillis', { integer: true, min: 1 }) ??
      2_000,
    maxAttempts:
      optionalNumber(webhook.maxAttempts, 'alerts.webhook.maxAttempts', { integer: true, min: 1, max: 20 }) ??
      4,
    closeTimeoutMillis:
      optionalNumber(webhook.closeTimeoutMillis, 'alerts.webhook.closeTimeoutMillis', {
        integer: true,
        min: 0,
      }) ?? 2_000,
  };
}
