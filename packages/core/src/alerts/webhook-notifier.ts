import { createHash } from 'node:crypto';
import { diag } from '@opentelemetry/api';
import type { ThresholdCrossedEvent } from '../events/decision-events';
import type { WebhookConfig } from './webhook-config';

/** The JSON body of a threshold alert. */
export interface ThresholdAlertPayload {
  type: 'tollgate.budget.threshold_crossed';
  /**
   * Idempotency key: the same for every delivery attempt of one crossing (also sent as the
   * `Idempotency-Key` header), so a receiver can drop the duplicates a retry after a timeout makes.
   */
  alertId: string;
  budgetId: string;
  scope: Record<string, string | undefined>;
  unit: string;
  limit: number;
  spent: number;
  /** Fraction of the limit that was crossed, e.g. 0.8. */
  threshold: number;
  windowKind: 'calendar' | 'rolling';
  /** Start of the calendar window (ISO 8601), or null for rolling windows. */
  windowStart: string | null;
  /** End of the calendar window (ISO 8601), when the threshold re-arms; null for rolling windows. */
  windowEnd: string | null;
  /** Spend and limit in USD are estimates computed from a price table. */
  costLabel: 'estimate';
  occurredAt: string;
}

type NotifierConfig = Required<
  Pick<WebhookConfig, 'url' | 'timeoutMillis' | 'maxAttempts' | 'closeTimeoutMillis'>
> &
  Pick<WebhookConfig, 'headers'>;

const FIRST_BACKOFF_MILLIS = 250;
/** Alerts waiting for delivery; past this, the oldest are dropped (with a warning) rather than growing memory. */
const MAX_PENDING = 1_000;

/**
 * Delivers threshold alerts to a webhook in the background: one POST per alert, a timeout
 * per attempt, exponential backoff between attempts. Nothing here is awaited by a call.
 */
export class WebhookNotifier {
  private pending = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborted when `close()` stops waiting: attempts in progress end and no retry starts. */
  private readonly closing = new AbortController();

  constructor(
    private readonly config: NotifierConfig,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms).unref()),
  ) {}

  notify(event: ThresholdCrossedEvent): void {
    if (this.pending >= MAX_PENDING) {
      diag.warn(
        `tollgate: webhook backlog full (${MAX_PENDING}); dropping the alert for budget "${event.budgetId}"`,
      );
      return;
    }
    this.pending++;
    const delivery = this.deliver(payloadOf(event)).finally(() => {
      this.pending--;
      this.inFlight.delete(delivery);
    });
    this.inFlight.add(delivery);
  }

  /** Waits for every delivery in progress (for tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  /**
   * Gives deliveries in progress up to `closeTimeoutMillis` to finish, then abandons the rest
   * with a warning: a dead webhook never holds up shutdown for its full retry schedule.
   */
  async close(): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.drain().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.config.closeTimeoutMillis);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    const abandoned = this.pending;
    this.closing.abort();
    await this.drain();
    diag.warn(
      `tollgate: ${abandoned} webhook alert(s) undelivered when the guard closed (closeTimeoutMillis ${this.config.closeTimeoutMillis})`,
    );
  }

  private async deliver(payload: ThresholdAlertPayload): Promise<void> {
    const body = JSON.stringify(payload);
    for (let attempt = 1; attempt <= this.config.maxAttempts; attempt++) {
      if (this.closing.signal.aborted) return;
      try {
        const response = await fetch(this.config.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': payload.alertId,
            ...this.config.headers,
          },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(this.config.timeoutMillis), this.closing.signal]),
        });
        await response.body?.cancel();
        if (response.ok) return;
        // A 4xx other than 408/429 will not get better by retrying.
        if (response.status < 500 && response.status !== 408 && response.status !== 429) {
          diag.warn(`tollgate: webhook refused the alert with HTTP ${response.status}; not retrying`);
          return;
        }
      } catch {
        // Network error or timeout: retry below.
      }
      if (attempt < this.config.maxAttempts && !this.closing.signal.aborted)
        await this.sleep(FIRST_BACKOFF_MILLIS * 2 ** (attempt - 1));
    }
    if (this.closing.signal.aborted) return;
    diag.warn(
      `tollgate: webhook alert for budget "${payload.budgetId}" undelivered after ${this.config.maxAttempts} attempts`,
    );
  }
}

function payloadOf(event: ThresholdCrossedEvent): ThresholdAlertPayload {
  const windowStart = event.windowStartMs === undefined ? null : new Date(event.windowStartMs).toISOString();
  const occurredAt = new Date(event.timestampMs).toISOString();
  return {
    type: 'tollgate.budget.threshold_crossed',
    alertId: alertIdOf(event, windowStart ?? occurredAt),
    budgetId: event.budgetId,
    scope: { ...event.scope },
    unit: event.unit,
    limit: event.limit,
    spent: event.spent,
    threshold: event.threshold,
    windowKind: event.windowKind,
    windowStart,
    windowEnd: event.windowEndMs === undefined ? null : new Date(event.windowEndMs).toISOString(),
    costLabel: 'estimate',
    occurredAt,
  };
}

/**
 * One crossing's identity: budget instance, threshold and window. The ledger fires a crossing
 * once per instance and window, so a calendar window's start makes the id the same wherever it
 * is computed; a rolling window has no start, and its crossing time stands in.
 */
function alertIdOf(event: ThresholdCrossedEvent, window: string): string {
  const scope = Object.entries(event.scope)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([dimension, value]) => `${dimension}=${value}`)
    .join(',');
  return createHash('sha256')
    .update([event.budgetId, event.unit, scope, event.threshold, window].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}
