import { readFileSync } from 'node:fs';
import type { BudgetConfig, CallEstimate, LlmCallDescriptor } from '@tollgate/core';
import { estimateCall, estimateInputTokens, requestedMaxOutputTokens } from '@tollgate/core';
import { CliError } from '../cli-error';
import { loadConfig } from '../config/load-config';
import { detectCall } from '../estimate/detect-call';
import type { Colors } from '../output/colors';
import { formatAmount, formatInteger, formatPercent, formatUsd } from '../output/format';

export interface EstimateOptions {
  provider?: string;
  operation?: string;
  model?: string;
  config?: string;
  json?: boolean;
}

/**
 * `tollgate estimate FILE|-`: the gate's pre-call estimate of a request body — input tokens and
 * how they were counted, the output it reserves and why, and the worst-case cost. Exit 1 when
 * the model has no price and unpriced models are refused.
 */
export async function estimateCommand(
  source: string,
  options: EstimateOptions,
  colors: Colors,
  write: (line: string) => void,
): Promise<number> {
  const body = readRequest(source);
  const loaded = await loadConfig(options.config);
  try {
    const config = loaded.guardConfig;
    const detected = detectCall(body, options, loaded.guard.prices);
    const { call } = detected;
    // A one-off command: count with the tokenizer now, as a guard does once its warm-up is done.
    const estimator = { ...config.estimator, waitForTokenizer: true };
    const settings = {
      prices: loaded.guard.prices,
      defaultMaxOutputTokens: config.defaultMaxOutputTokens,
      unknownModel: config.unknownModel ?? 'reject',
      estimator,
    } as const;
    const estimate = estimateCall(call, settings);
    const input = estimateInputTokens(call, estimator);
    const outputWhy = outputReason(call, estimate);
    const unpricedRefused = estimate.price === undefined;

    if (options.json) {
      write(
        JSON.stringify(
          {
            provider: call.provider,
            operation: call.operation,
            model: call.model,
            pricedAs: estimate.pricedModel ?? null,
            priceSource: estimate.priceSource ?? null,
            estimatedInputTokens: estimate.estimatedInputTokens,
            method: estimate.estimateMethod,
            encoding: input.encoding ?? null,
            maxOutputTokens: estimate.maxOutputTokens,
            maxOutputReason: outputWhy,
            choices: estimate.choices,
            worstCaseTokens: estimate.worstCaseTokens,
            worstCaseUsd: estimate.worstCaseUsd ?? null,
            budgets: budgetFitJson(config.budgets ?? [], call, estimate),
          },
          null,
          2,
        ),
      );
    } else {
      write(
        `${colors.bold(`${call.provider} ${call.operation}`)}, model ${call.model}` +
          (estimate.pricedModel && estimate.pricedModel !== call.model
            ? ` (priced as ${estimate.pricedModel})`
            : ''),
      );
      write(colors.dim(`  provider from ${detected.providerFrom}; operation: ${detected.operationFrom}`));
      write(
        `  input tokens      ${formatInteger(estimate.estimatedInputTokens)}  ${colors.dim(methodReason(estimate, input.encoding))}`,
      );
      write(`  max output tokens ${formatInteger(estimate.maxOutputTokens)}  ${colors.dim(outputWhy)}`);
      if (estimate.choices > 1)
        write(`  choices           ${estimate.choices}  ${colors.dim('output is reserved for each')}`);
      write(
        `  worst-case tokens ${formatInteger(estimate.worstCaseTokens)}  ${colors.dim('weight in token budgets and TPM limits')}`,
      );
      write(
        `  worst-case cost   ${
          estimate.worstCaseUsd === undefined
            ? colors.red('unpriced')
            : `${formatUsd(estimate.worstCaseUsd)}  ${colors.dim(
                estimate.priceSource === 'fallback'
                  ? 'at the unknownModel fallback price'
                  : 'at list price: what a USD budget reserves',
              )}`
        }`,
      );
    }
    if (!options.json) {
      for (const line of budgetFit(config.budgets ?? [], call, estimate)) write(line);
    }
    const alwaysRefused = budgetFitJson(config.budgets ?? [], call, estimate).find(
      (fit) => fit.share > 1 && !fit.ifScopeMatches,
    );
    if (alwaysRefused) {
      throw new CliError(
        `The worst case is more than the whole limit of budget "${alwaysRefused.budgetId}" (${alwaysRefused.unit}): the gate refuses this call every time; lower its max output tokens or raise the limit`,
      );
    }
    if (unpricedRefused) {
      throw new CliError(
        `No price for "${call.model}": a USD budget would refuse this call (add it under guard.prices.overrides, or set unknownModel: { fallback })`,
      );
    }
    return 0;
  } finally {
    await loaded.guard.close();
  }
}

function readRequest(source: string): unknown {
  let text: string;
  const name = source === '-' ? 'standard input' : source;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (error) {
    throw new CliError(
      `Cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
}

function methodReason(estimate: CallEstimate, encoding: string | undefined): string {
  switch (estimate.estimateMethod) {
    case 'tiktoken':
      return `counted with the model's tokenizer (${encoding}), plus fixed allowances for framing, tools and attachments`;
    case 'approximation':
      return `Claude: ${encoding ?? 'cl100k_base'} count times a safety factor, capped at the byte length`;
    default:
      return "bounded by the text's UTF-8 byte length (too large to tokenize cheaply, see estimator.exactCountMaxBytes)";
  }
}

/** Fields each operation reads its output cap from. */
const OUTPUT_FIELDS: Record<string, string> = {
  chat: 'max_completion_tokens / max_tokens',
  responses: 'max_output_tokens',
  messages: 'max_tokens',
  text_completion: 'max_tokens',
};

/** Why the gate reserves this many output tokens: the request's field, the default, or the model's cap. */
function outputReason(call: LlmCallDescriptor, estimate: CallEstimate): string {
  if (call.operation === 'embeddings') return 'embeddings produce no output';
  const field = requestedField(call);
  const modelMax = estimate.price?.maxOutputTokens;
  const cap = OUTPUT_FIELDS[call.operation] ?? 'output cap';
  switch (estimate.outputBound) {
    case 'sent':
      return `the request sets no ${cap}: defaultMaxOutputTokens (${formatInteger(estimate.maxOutputTokens)}) is reserved and sent with it`;
    case 'model-max':
      return `the request sets no ${cap}: ${estimate.pricedModel}'s maximum output (${formatInteger(estimate.maxOutputTokens)}) is reserved; set ${cap} or defaultMaxOutputTokens to reserve less`;
    case 'none':
      return `the request sets no ${cap} and the model has no known maximum output: refused under a token or USD budget`;
    default: {
      const requested = requestedMaxOutputTokens(call) ?? estimate.maxOutputTokens;
      let reason =
        field === undefined
          ? `the API's default for an unset ${cap} (${formatInteger(requested)})`
          : `from ${field} (${formatInteger(requested)})`;
      if (modelMax !== undefined && modelMax < requested)
        reason += `, capped by ${estimate.pricedModel}'s maximum output (${formatInteger(modelMax)})`;
      return reason;
    }
  }
}

function requestedField(call: LlmCallDescriptor): string | undefined {
  const body = call.body as Record<string, unknown>;
  if (call.operation === 'chat') {
    const completion = typeof body.max_completion_tokens === 'number';
    const legacy = typeof body.max_tokens === 'number';
    if (completion && legacy) return 'the larger of max_completion_tokens and max_tokens';
    return completion ? 'max_completion_tokens' : legacy ? 'max_tokens' : undefined;
  }
  const name = call.operation === 'responses' ? 'max_output_tokens' : 'max_tokens';
  return typeof body[name] === 'number' ? name : undefined;
}

/** What one call takes of a budget whose `match` names this provider and model (or nothing). */
interface BudgetFit {
  budgetId: string;
  unit: 'usd' | 'tokens' | 'requests';
  limit: number;
  worstCase: number;
  share: number;
  /** The budget also matches on tenant, user or feature, which a request body does not tell. */
  ifScopeMatches: boolean;
}

function budgetFitJson(
  budgets: readonly BudgetConfig[],
  call: LlmCallDescriptor,
  estimate: CallEstimate,
): BudgetFit[] {
  const fits: BudgetFit[] = [];
  for (const budget of budgets) {
    const match = budget.match ?? {};
    const names = (value: string | readonly string[] | undefined) =>
      value === undefined ? undefined : [value].flat().map((name) => name.toLowerCase());
    const providers = names(match.provider);
    const models = names(match.model);
    if (providers && !providers.includes(call.provider)) continue;
    if (models && !models.includes((estimate.pricedModel ?? call.model).toLowerCase())) continue;
    for (const [unit, limit] of Object.entries(budget.limit) as [BudgetFit['unit'], number][]) {
      const worstCase =
        unit === 'usd' ? estimate.worstCaseUsd : unit === 'tokens' ? estimate.worstCaseTokens : 1;
      if (worstCase === undefined || limit === undefined) continue;
      fits.push({
        budgetId: budget.id,
        unit,
        limit,
        worstCase,
        share: limit > 0 ? worstCase / limit : Number.POSITIVE_INFINITY,
        ifScopeMatches: match.tenant !== undefined || match.user !== undefined || match.feature !== undefined,
      });
    }
  }
  return fits;
}

/** Lines saying how much of each configured budget the call reserves; one over its whole limit is always refused. */
function budgetFit(
  budgets: readonly BudgetConfig[],
  call: LlmCallDescriptor,
  estimate: CallEstimate,
): string[] {
  const fits = budgetFitJson(budgets, call, estimate);
  if (fits.length === 0) return [];
  return [
    '  budgets it reserves against:',
    ...fits.map(
      (fit) =>
        `    ${fit.budgetId}: ${formatAmount(fit.unit, fit.worstCase)} of ${formatAmount(fit.unit, fit.limit)} (${formatPercent(fit.share)})` +
        (fit.ifScopeMatches ? ' (for the tenant, user or feature it matches)' : '') +
        (fit.share > 1 ? ' — more than the whole limit: refused every time' : ''),
    ),
  ];
}
