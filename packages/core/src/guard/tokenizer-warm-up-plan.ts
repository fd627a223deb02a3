import { diag } from '@opentelemetry/api';
import type { NormalizedGuardConfig } from '../config/normalize-guard-config';
import { RouteIds } from '../policies/route-target';
import { modelFamily } from '../tokens/encoding-for-model';
import { startTokenizerWarmUp, type WarmUpTarget } from '../tokens/tokenizer-warm-up';

/**
 * The models whose tokenizers a guard builds after start-up: those its configuration names
 * (rate limits, budget matches, fallback and cheapest-rule models), or the ones listed in
 * `estimator.warmUp`.
 * A provider named without a model stands for its own family (Anthropic: Claude). With no
 * model named anywhere, the default encoding, o200k_base (current OpenAI models and any model
 * no family claims), is built. One target per encoding.
 */
export function tokenizerWarmUpTargets(config: NormalizedGuardConfig): WarmUpTarget[] {
  const estimator = config.estimator;
  // 0 never counts exactly, so no tokenizer is ever needed.
  if (estimator?.exactCountMaxBytes === 0 || estimator?.warmUp === false) return [];
  const named: WarmUpTarget[] = Array.isArray(estimator?.warmUp)
    ? estimator.warmUp.map((model) => ({ model }))
    : configuredTargets(config);
  if (named.length === 0 && estimator?.warmUp === undefined) named.push({ model: 'gpt-4o' });
  const byEncoding = new Map<string, WarmUpTarget>();
  for (const target of named) {
    const encoding = modelFamily(target.model, target.provider).encoding;
    if (!byEncoding.has(encoding)) byEncoding.set(encoding, target);
  }
  return [...byEncoding.values()];
}

function configuredTargets(config: NormalizedGuardConfig): WarmUpTarget[] {
  const targets: WarmUpTarget[] = [];
  const add = (providers: readonly string[] | undefined, models: readonly string[] | undefined): void => {
    if (models !== undefined && models.length > 0) {
      for (const model of models) targets.push({ model: model.replace(/\*$/, '') });
      return;
    }
    // A provider with every model: its own family when it serves one (Anthropic), else the default.
    for (const provider of providers ?? []) targets.push({ model: '', provider });
  };
  for (const rule of config.rateLimits) add([rule.provider], rule.models);
  for (const budget of config.budgets) add(budget.match.provider, budget.match.model);
  // Routing ids may name their provider (`anthropic:claude-haiku-4-5`): its family decides.
  const ids = new RouteIds(
    config.prices,
    config.providers.entries.map((entry) => entry.name),
  );
  const addRouted = (id: string): void => {
    const target = ids.parse(id.replace(/\*$/, ''));
    targets.push(
      target.provider === undefined
        ? { model: target.model }
        : { model: target.model, provider: target.provider },
    );
  };
  for (const policy of config.policies) {
    if (policy.action === 'fallback') {
      for (const id of [...Object.keys(policy.models), ...Object.values(policy.models)]) addRouted(id);
    } else if (policy.action === 'cheapest') {
      for (const id of policy.models) addRouted(id);
    }
  }
  return targets;
}

/**
 * Starts building the tokenizers a guard's configuration needs, off the call path: nothing
 * runs before the current synchronous start-up code ends, then each encoding is parsed in
 * slices of a few milliseconds. Calls that arrive first are estimated by the byte bound
 * (see `estimator.waitForTokenizer`). A failed build is reported once; estimates then stay
 * at the byte bound.
 */
export function warmUpGuardTokenizers(config: NormalizedGuardConfig): void {
  for (const target of tokenizerWarmUpTargets(config)) {
    startTokenizerWarmUp(target).catch((error: unknown) => {
      diag.warn(
        `tollgate: the tokenizer for ${target.model || target.provider} could not be built; ` +
          'calls are estimated by their byte length',
        error,
      );
    });
  }
}
