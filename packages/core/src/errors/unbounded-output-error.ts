import { isBranded, TollgateError } from './tollgate-error';

/**
 * The request sets no output cap and the model's maximum output is unknown, so nothing bounds
 * what the provider may bill, and a token or USD budget applies; the request was not sent.
 * Set `max_tokens` (or `max_completion_tokens` / `max_output_tokens`) on the request, set the
 * guard's `defaultMaxOutputTokens` so Tollgate sends a cap, or give the model a
 * `maxOutputTokens` under `prices.overrides` (or `unknownModel.fallback.maxOutputTokens`).
 */
export class UnboundedOutputError extends TollgateError {
  static readonly code = 'TOLLGATE_UNBOUNDED_OUTPUT';
  readonly model: string;
  /** Token and USD budgets that apply to the call. */
  readonly budgetIds: readonly string[];

  constructor(model: string, budgetIds: readonly string[], capField: string | undefined) {
    const field = capField ?? 'max_tokens';
    super(
      UnboundedOutputError.code,
      `The request to model "${model}" sets no ${field} and the model's maximum output is not known, ` +
        `so what it may cost under budget(s) ${budgetIds.map((id) => `"${id}"`).join(', ')} has no bound. ` +
        `Set ${field} on the request, set the guard's defaultMaxOutputTokens so Tollgate sends a cap, ` +
        'or add maxOutputTokens for the model under prices.overrides. The request was not sent.',
    );
    this.model = model;
    this.budgetIds = budgetIds;
  }

  static override isInstance(value: unknown): value is UnboundedOutputError {
    return isBranded(value, UnboundedOutputError.code);
  }
}
