import { diag } from '@opentelemetry/api';
import type { ThresholdCrossedEvent } from '../guard/decision-events';
import type { WebhookConfig } from './webhook-config';

/** The JSON body of a threshold alert. */
export interface ThresholdAlertPayload {
  type: 'tollgate.budget.threshold_crossed';
  budgetId: string;
  scope: Record<string, string | undefined>;
  unit: string;
  limit: number;
  spent: number;
  /** Fraction of the limit that was crossed, e.g. 0.8. */
  threshold: number;
  /** Start of the calendar window (ISO 8601), or null for rolling windows. */
  windowStart: string | null;
  /** Spend and limit in USD are estimates computed from a price table. */
  costLabel: 'estimate';
  occurredAt: string;
}

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

  constructor(
    private readonly config: Required<Pick<WebhookConfig, 'url' | 'timeoutMillis' | 'maxAttempts'>> &
      Pick<WebhookConfig, 'headers'>,
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

  /** Waits for every delivery in progress (for shutdown and tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private async deliver(payload: ThresholdAlertPayload): Promise<void> {
    const body = JSON.stringify(payload);
    for (let attempt = 1; attempt <= this.config.maxAttempts; attempt++) {
      try {
        const response = await fetch(this.config.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.config.headers },
          body,
          signal: AbortSignal.timeout(this.config.timeoutMillis),
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
      if (attempt < this.config.maxAttempts) await this.sleep(FIRST_BACKOFF_MILLIS * 2 ** (attempt - 1));
    }
    diag.warn(
      `tollgate: webhook alert for budget "${payload.budgetId}" undelivered after ${this.config.maxAttempts} attempts`,
    );
  }
}

function payloadOf(event: ThresholdCrossedEvent): ThresholdAlertPayload {
  return {
    type: 'tollgate.budget.threshold_crossed',
    budgetId: event.budgetId,
    scope: { ...event.scope },
    unit: event.unit,
    limit: event.limit,
    spent: event.spent,
    threshold: event.threshold,
    windowStart: event.windowStartMs === undefined ? null : new Date(event.windowStartMs).toISOString(),
    costLabel: 'estimate',
    occurredAt: new Date(event.timestampMs).toISOString(),
  };
}
