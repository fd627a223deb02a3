import type { TollgateInstrumentationConfig } from '@tollgate/core/instrumentation';

/**
 * What happens to the span the Anthropic SDK (1.x) emits for each API call when a tracer
 * provider is registered:
 * - `suppress`: gated calls emit no SDK span; Tollgate's span is the only one.
 * - `nest`: the SDK's span is a child of Tollgate's span — same trace, one level down, covering
 *   the HTTP request (with its retries) but not the time spent waiting at the gate. It carries
 *   its own `gen_ai.usage.*` attributes, so a sum of token usage over all spans counts such a
 *   call twice: sum over spans with `tollgate.gate.decision` (Tollgate's) only.
 */
export type SdkSpanMode = 'nest' | 'suppress';

/** Configuration of `AnthropicInstrumentation`. */
export interface AnthropicInstrumentationConfig extends TollgateInstrumentationConfig {
  /**
   * What to do with the Anthropic SDK's own span for each gated call. Clients built with
   * `openTelemetry: false` (or with `ANTHROPIC_OPEN_TELEMETRY=false` set) emit none either way.
   * @default 'suppress'
   */
  sdkSpans?: SdkSpanMode;
  /**
   * `gen_ai.provider.name` for calls through this SDK, and the provider the guard's budgets and
   * rate limits match on.
   * @default 'anthropic'
   */
  providerName?: string;
}
