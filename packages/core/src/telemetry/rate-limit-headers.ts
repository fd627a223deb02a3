/**
 * The response headers that can speak of the provider's limits — any name with `ratelimit` in
 * it (`x-ratelimit-*`, `anthropic-ratelimit-*`, `x-ms-ratelimit-*`, `ratelimit-*`) and
 * `retry-after*` — as a plain record, or undefined when there are none. One pass over the
 * headers: reading each known name with `Headers.get()` costs several times more (every call
 * validates and lower-cases its name), and most replies carry a dozen other headers.
 */
export function rateLimitHeaders(headers: Headers): Record<string, string> | undefined {
  let found: Record<string, string> | undefined;
  for (const [name, value] of headers) {
    if (!name.includes('ratelimit') && !name.startsWith('retry-after')) continue;
    found ??= {};
    found[name] = value;
  }
  return found;
}
