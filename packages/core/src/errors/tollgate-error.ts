const TOLLGATE_ERROR_BRAND = Symbol.for('tollgate.error');

/**
 * Base class of every error Tollgate throws on purpose. Check with
 * `TollgateError.isInstance(err)` rather than `instanceof`: the brand is a
 * global symbol, so the check holds even when two copies of the package are loaded.
 */
export class TollgateError extends Error {
  /** Stable machine-readable code, one per subclass. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, TOLLGATE_ERROR_BRAND, { value: true });
  }

  /** True for any Tollgate error, from any copy of the package. */
  static isInstance(value: unknown): value is TollgateError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[TOLLGATE_ERROR_BRAND] === true
    );
  }
}

/** True when `value` is a Tollgate error carrying `code`, from any copy of the package. */
export function isBranded(value: unknown, code: string): boolean {
  return TollgateError.isInstance(value) && value.code === code;
}
