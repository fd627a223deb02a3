/** Stand-in text for a value that cannot be serialised; long enough never to count as zero. */
const UNSERIALISABLE_TEXT = '[unserialisable value]';

/**
 * Whether a value is a plain-ish object whose properties can be read.
 *
 * @param value - Anything from a request body.
 * @returns `true` for non-null, non-array objects.
 */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The JSON text of a value, for counting structures Tollgate does not recognise.
 * Never throws: cycles, BigInts, throwing getters and `toJSON` fall back to a fixed text.
 *
 * @param value - Anything from a request body.
 * @returns Text whose token count bounds what the provider sees for the value.
 */
export function jsonText(value: unknown): string {
  try {
    const json = JSON.stringify(value, (_key, inner: unknown) =>
      typeof inner === 'bigint' ? inner.toString() : inner,
    );
    // JSON.stringify returns undefined for functions, symbols and undefined.
    return json ?? String(value);
  } catch {
    return UNSERIALISABLE_TEXT;
  }
}
