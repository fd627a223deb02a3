/**
 * Readers for the loosely typed objects SDKs hand back (results, stream events, options): each
 * answers undefined instead of throwing when a field is missing or of another type, since a
 * provider adding or dropping a field must never break the call it belongs to.
 */

/** `value` as a plain object to read fields from, or undefined when it is not an object. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** `value` when it is a non-empty string. */
export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** `value` when it is a token count: a finite number, zero or more. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
