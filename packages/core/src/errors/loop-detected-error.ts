import type { ScopeValues } from '../scope/scope';
import { isBranded, TollgateError } from './tollgate-error';

/** What a loop rule counted when it refused a call. */
export interface LoopDetectedDetails {
  ruleId: string;
  /** The scope values the repeats were counted under (e.g. `{ tenant: 'acme' }`); empty for a rule without `per`. */
  scope: ScopeValues;
  /** Identical requests already sent in the window: the rule's `maxIdentical`. */
  count: number;
  /** The rule's sliding window. */
  windowMillis: number;
  /** Until the oldest counted request leaves the window and one more would be let through. */
  retryAfterMs: number;
  /** Digest of the repeated request (base64url SHA-256), to find its other occurrences in events. */
  fingerprint: string;
}

/**
 * The same request was sent too often in a short window (a retry loop, an agent re-asking):
 * a loop rule refused it before anything was reserved or sent.
 *
 * @example
 * ```ts
 * try { await client.chat.completions.create(params) }
 * catch (err) { if (LoopDetectedError.isInstance(err)) stopAgent(err.ruleId) }
 * ```
 */
export class LoopDetectedError extends TollgateError implements LoopDetectedDetails {
  static readonly code = 'TOLLGATE_LOOP_DETECTED';
  readonly ruleId: string;
  readonly scope: ScopeValues;
  readonly count: number;
  readonly windowMillis: number;
  readonly retryAfterMs: number;
  readonly fingerprint: string;

  constructor(details: LoopDetectedDetails) {
    const where = Object.entries(details.scope)
      .map(([dimension, value]) => `${dimension}=${value}`)
      .join(', ');
    super(
      LoopDetectedError.code,
      `Loop rule "${details.ruleId}"${where ? ` (${where})` : ''} refused the call: the same request was ` +
        `sent ${details.count} times in ${details.windowMillis} ms; retry after ${details.retryAfterMs} ms. ` +
        'The request was not sent.',
    );
    this.ruleId = details.ruleId;
    this.scope = details.scope;
    this.count = details.count;
    this.windowMillis = details.windowMillis;
    this.retryAfterMs = details.retryAfterMs;
    this.fingerprint = details.fingerprint;
  }

  static override isInstance(value: unknown): value is LoopDetectedError {
    return isBranded(value, LoopDetectedError.code);
  }
}
