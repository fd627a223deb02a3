import type { ClientLike } from './internal-types';

/**
 * Runs `fn` with `client` presenting itself as one whose own spans are turned off, then puts
 * its tracer back. The SDK decides whether to start its span synchronously, from the client's
 * `_tracer` (undefined for a client built with `openTelemetry: false`), at the moment an API
 * method or stream helper is called; every later step follows the span it started, or the lack
 * of one. So for the synchronous run of `fn` — and for that call alone — the SDK behaves as it
 * does for a client with spans off, a state it fully supports. Nothing else can run in between.
 *
 * A client without a tracer (SDK 0.x before tracing, or spans off) is left untouched.
 */
export function withoutSdkSpans<T>(client: ClientLike | undefined, fn: () => T): T {
  const slot = client ? Object.getOwnPropertyDescriptor(client, '_tracer') : undefined;
  if (!client || !slot || !('value' in slot) || !slot.writable || slot.value === undefined) return fn();
  client._tracer = undefined;
  try {
    return fn();
  } finally {
    client._tracer = slot.value;
  }
}
