/**
 * What to do with a value JSON cannot carry exactly. `'refuse'`: the whole value has no
 * canonical form (a response cache key must say everything the provider receives). `'describe'`:
 * bytes are written as base64, dates as ISO strings, and functions, symbols and objects that are
 * not data (an `AbortSignal`) are left out (a loop fingerprint must always exist).
 */
export type NonJsonValues = 'refuse' | 'describe';

/** A field `describe` leaves out. */
const LEFT_OUT = Symbol('left out');

/**
 * `value` as JSON with object keys sorted at every depth and undefined fields left out, so two
 * requests that differ only in key order read the same. Undefined when `nonJson` is `'refuse'`
 * and the value holds something JSON cannot say exactly.
 */
export function canonicalJson(value: unknown, nonJson: NonJsonValues = 'refuse'): string | undefined {
  const text = write(value, nonJson);
  return text === LEFT_OUT ? 'null' : text;
}

function write(value: unknown, nonJson: NonJsonValues): string | undefined | typeof LEFT_OUT {
  const describe = nonJson === 'describe';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : describe ? String(value) : undefined;
    case 'bigint':
      return describe ? value.toString() : undefined;
    case 'object':
      break;
    default:
      return describe ? LEFT_OUT : undefined;
  }
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value) {
      const text = item === undefined ? 'null' : write(item, nonJson);
      if (text === undefined) return undefined;
      items.push(text === LEFT_OUT ? 'null' : text);
    }
    return `[${items.join(',')}]`;
  }
  if (describe && ArrayBuffer.isView(value))
    return JSON.stringify({
      $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    });
  if (describe && value instanceof Date) return JSON.stringify(value.toISOString());
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return describe ? LEFT_OUT : undefined;
  const fields: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    const text = write(field, nonJson);
    if (text === undefined) return undefined;
    if (text !== LEFT_OUT) fields.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${fields.join(',')}}`;
}
