import { isBranded, TollgateError } from './tollgate-error';

/**
 * The model has no price and a USD budget applies to the call, so its cost
 * cannot be bounded; the request was not sent. Add the model with
 * `prices.overrides` or set `unknownModel: { fallback: ... }`.
 */
export class UnknownModelPriceError extends TollgateError {
  static readonly code = 'TOLLGATE_UNKNOWN_MODEL_PRICE';
  readonly model: string;
  readonly budgetIds: readonly string[];

  constructor(model: string, budgetIds: readonly string[]) {
    super(
      UnknownModelPriceError.code,
      `No price is known for model "${model}", and USD budget(s) ${budgetIds.map((id) => `"${id}"`).join(', ')} ` +
        'apply to the call, so its cost cannot be bounded. Add the model under prices.overrides, or configure ' +
        'unknownModel: { fallback: { input, output } }. The request was not sent.',
    );
    this.model = model;
    this.budgetIds = budgetIds;
  }

  static override isInstance(value: unknown): value is UnknownModelPriceError {
    return isBranded(value, UnknownModelPriceError.code);
  }
}
