/** Where threshold alerts are POSTed as JSON. Delivery never blocks or fails a call. */
export interface WebhookConfig {
  url: string;
  /** Extra request headers, e.g. an authorization token. @default {} */
  headers?: Readonly<Record<string, string>>;
  /** Per-attempt timeout. @default 2_000 */
  timeoutMillis?: number;
  /** Attempts per alert, including the first; retries back off exponentially from 250 ms. @default 4 */
  maxAttempts?: number;
  /**
   * How long `guard.close()` waits for deliveries in progress; the rest are abandoned with a
   * warning, so a dead webhook never holds up shutdown. @default 2_000
   */
  closeTimeoutMillis?: number;
}
