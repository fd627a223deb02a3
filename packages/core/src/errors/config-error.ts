import { isBranded, TollgateError } from './tollgate-error';

/** Invalid guard configuration. Thrown at startup, naming the offending field and value. */
export class TollgateConfigError extends TollgateError {
  static readonly code = 'TOLLGATE_CONFIG_INVALID';
  /** Path of the offending field, e.g. `budgets[1].limit.usd`. */
  readonly field: string;

  constructor(field: string, problem: string, value: unknown) {
    super(
      TollgateConfigError.code,
      `Invalid Tollgate config at ${field}: ${problem} (got ${describe(value)})`,
    );
    this.field = field;
  }

  static override isInstance(value: unknown): value is TollgateConfigError {
    return isBranded(value, TollgateConfigError.code);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}
