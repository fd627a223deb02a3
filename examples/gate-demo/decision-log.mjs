// One line per gate decision, from the guard's onDecision hook.
const started = Date.now();
const clock = () => `${String(Date.now() - started).padStart(5)} ms`;
export const usd = (value) => (value === undefined ? 'n/a' : `$${value.toFixed(6)}`);

export function logDecision(event) {
  const who = `${event.scope?.tenant ?? '-'}/${event.model ?? ''}`.padEnd(26);
  switch (event.type) {
    case 'allowed':
      console.log(
        `${clock()}  allowed         ${who} reserved ${usd(event.estimatedCostUsd)} (estimate, worst case)`,
      );
      break;
    case 'throttled':
      console.log(
        `${clock()}  throttled       ${who} queued ${event.waitMillis} ms for ${event.limiterKeys.join(', ')}`,
      );
      break;
    case 'rate-limited':
      console.log(
        `${clock()}  rate-limited    ${who} ${event.reason}, retry after ${Number.isFinite(event.retryAfterMs) ? `${event.retryAfterMs} ms` : 'never (too big)'}`,
      );
      break;
    case 'budget-exceeded':
      console.log(
        `${clock()}  budget-refused  ${who} "${event.budgetId}": spent ${event.spent} + reserved ${event.reserved} + requested ${event.requested} > ${event.limit} ${event.unit} — request not sent`,
      );
      break;
    case 'settled':
      console.log(
        `${clock()}  settled         ${who} ${event.usage.inputTokens} in / ${event.usage.outputTokens} out from ${event.usageSource}, cost ${usd(event.actualCostUsd)} (estimate)`,
      );
      break;
    case 'threshold-crossed':
      console.log(
        `${clock()}  ALERT           budget "${event.budgetId}" passed ${event.threshold * 100}% (${event.spent} of ${event.limit} ${event.unit}, estimate)`,
      );
      break;
    case 'price-table-stale':
      console.log(
        `${clock()}  warning         price table checked ${event.checkedAt}, ${Math.floor(event.ageDays)} days ago: review prices`,
      );
      break;
  }
}
