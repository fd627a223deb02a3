import type { TokenUsage } from './token-usage';

/**
 * Most tokens one call's usage may count in any one field. No model reads or writes anywhere
 * near this much in one request; a larger figure is a provider or parsing fault, and clamping
 * it keeps every cost finite and every ledger amount an exact integer.
 */
export const MAX_USAGE_TOKENS = 100_000_000;

const FIELDS = [
  'inputTokens',
  'outputTokens',
  'cacheReadInputTokens',
  'cacheWriteInputTokens',
  'reasoningOutputTokens',
] as const satisfies readonly (keyof TokenUsage)[];

/** Usage made safe to charge, and what had to change to make it so. */
export interface NormalizedUsage {
  usage: TokenUsage;
  /** One line per figure that was changed, e.g. `inputTokens 10.5 rounded up to 11`; empty when none was. */
  adjustments: string[];
}

/**
 * Makes reported usage safe to charge, at the one place the guard settles it:
 * - a count that is not a number, `NaN` or negative is unknown (`undefined`), which the guard
 *   charges at its pre-call worst case — garbage never lowers a charge;
 * - a fractional count is rounded up (tokens are billed whole);
 * - a count above `MAX_USAGE_TOKENS` (or infinite) is clamped to it.
 *
 * @param usage - Usage as an instrumentation or caller reported it.
 * @returns Finite, non-negative integer counts (or `undefined`), and the adjustments made.
 */
export function normalizeUsage(usage: TokenUsage): NormalizedUsage {
  const adjustments: string[] = [];
  const out: TokenUsage = { inputTokens: undefined, outputTokens: undefined };
  for (const field of FIELDS) {
    const value: unknown = usage[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      adjustments.push(`${field} ${describe(value)} is not a token count: charged as unknown`);
      continue;
    }
    let count = value;
    if (count > MAX_USAGE_TOKENS) {
      adjustments.push(`${field} ${describe(value)} clamped to ${MAX_USAGE_TOKENS}`);
      count = MAX_USAGE_TOKENS;
    } else if (!Number.isInteger(count)) {
      count = Math.ceil(count);
      adjustments.push(`${field} ${describe(value)} rounded up to ${count}`);
    }
    out[field] = count;
  }
  return { usage: out, adjustments };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}
