/**
 * A circuit breaker for a provider's models (one circuit per provider and model). It opens
 * when, over the sliding window, any configured threshold is passed; while open, calls are
 * refused at once with `CircuitOpenError`.
 */
export interface CircuitBreakerConfig {
  provider: string;
  /** Model or models; each gets its own circuit. @default every model of the provider */
  model?: string | readonly string[];
  /** Sliding window the rates are measured over. @default 60_000 */
  windowMillis?: number;
  /** Calls in the window before error rate and latency are judged. @default 10 */
  minCalls?: number;
  /** Open when the share of failed calls (5xx, timeouts, 429 after the SDK's retries) passes this. */
  errorRateAbove?: number;
  /** Open when the 95th percentile call duration passes this. */
  latencyP95AboveMillis?: number;
  /** Open when settled spend (estimated USD) per minute over the window passes this: the runaway-loop guard. */
  spendUsdPerMinuteAbove?: number;
  /** How long the circuit stays open before letting probe calls through. @default 30_000 */
  openMillis?: number;
  /** Probe calls allowed at once while half-open. @default 1 */
  halfOpenProbes?: number;
}
