import { isBranded, TollgateError } from './tollgate-error';

/**
 * A field of the request body is malformed (e.g. `max_tokens: "abc"`, `n: -1`, `messages`
 * that is not an array), so the gate cannot bound what the call may cost. The provider
 * would refuse the request too; it was not sent.
 */
export class InvalidRequestError extends TollgateError {
  static readonly code = 'TOLLGATE_INVALID_REQUEST';
  /** Path of the offending field in the request body, e.g. `max_tokens` or `messages`. */
  readonly field: string;

  constructor(field: string, expected: string, value: unknown) {
    super(
      InvalidRequestError.code,
      `Invalid request field ${field}: expected ${expected}, got ${describe(value)}. The request was not sent.`,
    );
    this.field = field;
  }

  static override isInstance(value: unknown): value is InvalidRequestError {
    return isBranded(value, InvalidRequestError.code);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}
