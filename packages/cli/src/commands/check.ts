import type {
  BudgetConfig,
  BudgetUnit,
  CircuitBreakerConfig,
  DecisionEvent,
  DegradationRule,
  GuardConfig,
  LoopRuleConfig,
  PriceTable,
  RateLimitConfig,
} from '@tollgate/core';
import { calendarWindowAt } from '@tollgate/core';
import { CliError } from '../cli-error';
import { loadConfig } from '../config/load-config';
import type { Colors } from '../output/colors';
import { formatAmount, formatDuration, formatInteger, formatPercent, formatTimeIn } from '../output/format';

export interface CheckOptions {
  strict?: boolean;
}

/**
 * `tollgate check FILE`: validates the file as the app would load it, then says what it means.
 * Warnings (unpriced models named in rules, a stale price table) fail only with `--strict`.
 */
export async function checkCommand(
  path: string,
  options: CheckOptions,
  colors: Colors,
  write: (line: string) => void,
): Promise<number> {
  const loaded = await loadConfig(path);
  try {
    const config = loaded.guardConfig;
    const prices = loaded.guard.prices;
    const nowMs = Date.now();
    write(`${colors.green('✓')} ${path} is valid: createGuard() accepts it.`);
    if (loaded.options.serviceName) write(`  service: ${loaded.options.serviceName}`);

    const budgets = config.budgets ?? [];
    write('');
    write(colors.bold(`Budgets (${budgets.length})`));
    if (budgets.length === 0) write('  none: calls are observed, never refused for spend');
    for (const budget of budgets) for (const line of describeBudget(budget, nowMs)) write(line);

    const rateLimits = config.rateLimits ?? [];
    write('');
    write(colors.bold(`Rate limits (${rateLimits.length})`));
    for (const rule of rateLimits) write(`  ${describeRateLimit(rule)}`);

    const policies = config.policies ?? [];
    write('');
    write(colors.bold(`Rules (${policies.length})`));
    for (const rule of policies) write(`  ${describeRule(rule)}`);

    const loops = config.loops ?? [];
    if (loops.length > 0) {
      write('');
      write(colors.bold(`Loop rules (${loops.length})`));
      for (const rule of loops) write(`  ${describeLoop(rule)}`);
    }

    const breakers = config.circuitBreakers ?? [];
    if (breakers.length > 0) {
      write('');
      write(colors.bold(`Circuit breakers (${breakers.length})`));
      for (const breaker of breakers) write(`  ${describeBreaker(breaker)}`);
    }

    write('');
    write(colors.bold('Prices'));
    const overrides = Object.keys(config.prices?.overrides ?? {}).length;
    write(
      `  table checked ${prices.checkedAt} (${prices.ageDays(nowMs)} days ago), ${prices.currency} per 1M tokens, ` +
        `${prices.models().length} models${overrides ? `, ${overrides} overridden in the config` : ''}` +
        `${config.prices?.file ? `, file ${config.prices.file}` : ''}`,
    );
    write(
      `  unpriced models: ${
        typeof config.unknownModel === 'object'
          ? `charged at the fallback price ($${config.unknownModel.fallback.input} in / $${config.unknownModel.fallback.output} out per 1M)`
          : 'refused when a USD budget applies (unknownModel: reject)'
      }`,
    );

    const warnings = [...unpricedModelWarnings(config, prices), ...staleWarnings(loaded.startupEvents)];
    if (warnings.length > 0) {
      write('');
      write(colors.bold(colors.yellow(`Warnings (${warnings.length})`)));
      for (const warning of warnings) write(`  ${colors.yellow('!')} ${warning}`);
      if (options.strict) throw new CliError(`${path}: ${warnings.length} warning(s) (--strict)`);
    }
    return 0;
  } finally {
    await loaded.guard.close();
  }
}

function describeBudget(budget: BudgetConfig, nowMs: number): string[] {
  const limits = (Object.entries(budget.limit) as [BudgetUnit, number][])
    .filter(([, value]) => value !== undefined)
    .map(([unit, value]) => formatAmount(unit, value))
    .join(' and ');
  const timeZone = budget.timeZone ?? 'UTC';
  const window =
    typeof budget.window === 'string'
      ? `per ${budget.window} (${timeZone})`
      : `per rolling ${formatDuration(budget.window.rollingMillis)}`;
  const lines = [`  ${budget.id}: ${limits} ${window}`];
  if (budget.per?.length) lines.push(`    one instance per ${budget.per.join(' × ')}`);
  const match = Object.entries(budget.match ?? {})
    .map(([dimension, value]) => `${dimension}=${[value].flat().join('|')}`)
    .join(', ');
  if (match) lines.push(`    only calls with ${match}`);
  if (budget.alertAt?.length) lines.push(`    alerts at ${budget.alertAt.map(formatPercent).join(', ')}`);
  if (typeof budget.window === 'string') {
    const bounds = calendarWindowAt(budget.window, timeZone, nowMs);
    lines.push(
      `    this window: ${formatTimeIn(bounds.startMs, timeZone)} → ${formatTimeIn(bounds.endMs, timeZone)}; ` +
        `resets in ${formatDuration(bounds.endMs - nowMs)}`,
    );
  } else {
    lines.push(`    spend leaves the window ${formatDuration(budget.window.rollingMillis)} after it is made`);
  }
  return lines;
}

function describeRateLimit(rule: RateLimitConfig): string {
  const models = rule.model === undefined ? 'every model' : [rule.model].flat().join(', ');
  const parts = [
    rule.rpm !== undefined && `${formatInteger(rule.rpm)} requests/min`,
    rule.tpm !== undefined && `${formatInteger(rule.tpm)} tokens/min`,
    rule.maxConcurrent !== undefined && `${rule.maxConcurrent} in flight`,
    rule.burstRequests !== undefined && `burst ${formatInteger(rule.burstRequests)} requests`,
    rule.burstTokens !== undefined && `burst ${formatInteger(rule.burstTokens)} tokens`,
  ].filter(Boolean);
  const per = rule.per?.length ? `, per ${rule.per.join(' × ')} and model` : ', per model';
  const wait = `queue up to ${formatDuration(rule.maxWaitMillis ?? 10_000)}`;
  return `${rule.provider} (${models}): ${parts.join(', ')}${per}; ${wait}`;
}

function describeRule(rule: DegradationRule): string {
  const { budget, usedAbove } = rule.when ?? {};
  const whenBudget =
    budget !== undefined && usedAbove !== undefined
      ? `when ${budget} is more than ${formatPercent(usedAbove)} used`
      : undefined;
  const whenCircuit =
    (rule.action === 'fallback' || rule.action === 'cheapest') && rule.when?.circuitOpen
      ? 'when its circuit is open'
      : undefined;
  const when = [whenBudget, whenCircuit].filter(Boolean).join(' or ');
  switch (rule.action) {
    case 'fallback':
      return `${rule.id}: ${when}, switch ${Object.entries(rule.models)
        .map(([from, to]) => `${from} → ${to}`)
        .join(', ')}`;
    case 'cheapest':
      return `${rule.id}: ${when || 'always'}, send to the cheapest available of ${rule.models.join(', ')}`;
    case 'defer':
      return `${rule.id}: ${when}, hold background calls until the window resets`;
    case 'reject': {
      const match = Object.entries(rule.match ?? {})
        .map(([dimension, value]) => `${dimension}=${[value].flat().join('|')}`)
        .join(', ');
      return `${rule.id}: ${when}, refuse ${match ? `calls with ${match}` : 'every call'}`;
    }
    default:
      return `${(rule as { id: string }).id}: ${when}`;
  }
}

function describeLoop(rule: LoopRuleConfig): string {
  const repeat = rule.repeats === 'same-turn' ? 'call in one agent turn' : 'identical request';
  const per = rule.per?.length ? `, per ${rule.per.join(' and ')}` : '';
  return `${rule.id}: refuses the ${repeat} after ${rule.maxIdentical} in ${formatDuration(rule.windowMillis ?? 60_000)}${per}`;
}

function describeBreaker(breaker: CircuitBreakerConfig): string {
  const models = breaker.model === undefined ? 'every model' : [breaker.model].flat().join(', ');
  const trips = [
    breaker.errorRateAbove !== undefined && `error rate above ${formatPercent(breaker.errorRateAbove)}`,
    breaker.latencyP95AboveMillis !== undefined && `p95 latency above ${breaker.latencyP95AboveMillis} ms`,
    breaker.spendUsdPerMinuteAbove !== undefined && `spend above $${breaker.spendUsdPerMinuteAbove}/min`,
  ].filter(Boolean);
  return `${breaker.provider} (${models}): opens on ${trips.join(' or ') || 'its defaults'}`;
}

/** Models named in the config that the price table (overrides applied) cannot price. */
function unpricedModelWarnings(config: GuardConfig, prices: PriceTable): string[] {
  const named: { where: string; model: string }[] = [];
  (config.rateLimits ?? []).forEach((rule, index) => {
    if (rule.model !== undefined)
      for (const model of [rule.model].flat()) named.push({ where: `rateLimits[${index}].model`, model });
  });
  (config.budgets ?? []).forEach((budget, index) => {
    if (budget.match?.model !== undefined)
      for (const model of [budget.match.model].flat())
        named.push({ where: `budgets[${index}].match.model`, model });
  });
  (config.policies ?? []).forEach((rule, index) => {
    if (rule.action === 'cheapest')
      rule.models.forEach((model, at) => {
        named.push({ where: `policies[${index}].models[${at}]`, model });
      });
    if (rule.action !== 'fallback') return;
    for (const [from, to] of Object.entries(rule.models)) {
      if (!from.endsWith('*')) named.push({ where: `policies[${index}].models`, model: from });
      named.push({ where: `policies[${index}].models["${from}"]`, model: to });
    }
  });
  (config.circuitBreakers ?? []).forEach((breaker, index) => {
    if (breaker.model !== undefined)
      for (const model of [breaker.model].flat())
        named.push({ where: `circuitBreakers[${index}].model`, model });
  });
  const consequence =
    typeof config.unknownModel === 'object'
      ? 'calls to it are charged at the fallback price'
      : 'a USD budget refuses every call to it';
  return (
    named
      // Routing rules may name a model as `provider:model`: priced if either reading is.
      .filter(
        ({ model }) =>
          prices.resolve(model) === undefined &&
          prices.resolve(model.slice(model.indexOf(':') + 1)) === undefined,
      )
      .map(({ where, model }) => `${where}: model "${model}" has no price; ${consequence}`)
  );
}

function staleWarnings(events: readonly DecisionEvent[]): string[] {
  return events.flatMap((event) =>
    event.type === 'price-table-stale'
      ? [
          `the price table was checked ${event.ageDays} days ago (${event.checkedAt}), more than ` +
            `priceTableMaxAgeDays (${event.maxAgeDays}): provider prices may have changed`,
        ]
      : [],
  );
}
