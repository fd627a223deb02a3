import { isBranded, TollgateError } from './tollgate-error';

/** The circuit for this provider and model is open; the call was refused at once and never sent. */
export class CircuitOpenError extends TollgateError {
  static readonly code = 'TOLLGATE_CIRCUIT_OPEN';
  /** `provider:model` */
  readonly circuitKey: string;
  /** What opened it: `error-rate`, `latency`, `spend-rate`, `manual`, or `probe-failed`. */
  readonly reason: string;
  /** Time until the circuit lets a probe call through (0 when half-open but all probe slots are taken). */
  readonly retryAfterMs: number;

  constructor(circuitKey: string, reason: string, retryAfterMs: number) {
    super(
      CircuitOpenError.code,
      `Circuit "${circuitKey}" is open (${reason}); calls are refused until it half-opens in ${retryAfterMs} ms. The request was not sent.`,
    );
    this.circuitKey = circuitKey;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }

  static override isInstance(value: unknown): value is CircuitOpenError {
    return isBranded(value, CircuitOpenError.code);
  }
}
