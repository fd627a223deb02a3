import type { LlmCallDescriptor } from '../call/llm-call';
import type { CallScope, ScopeValues } from '../scope/scope';
import { loopFingerprint } from './loop-fingerprint';
import type { NormalizedLoopRule } from './loop-rule';

/** Calls with no value for a rule's `per` dimension are counted together under this value. */
const UNSET_SCOPE_VALUE = '(none)';

/**
 * Distinct requests remembered per rule. Past it, the least recently sent is forgotten, so a
 * flood of different requests cannot grow the process without bound; a request repeated in a
 * loop is always among the most recent.
 */
const MAX_TRACKED_REQUESTS = 100_000;

/** A loop rule refused the call: what it counted. */
export interface LoopVerdict {
  rule: NormalizedLoopRule;
  /** The scope values the repeats were counted under (empty for a rule without `per`). */
  scope: ScopeValues;
  /** Identical requests let through in the window (the rule's `maxIdentical`). */
  count: number;
  /** Until the oldest of them leaves the window and one more is let through. */
  retryAfterMs: number;
  fingerprint: string;
}

/**
 * Counts identical requests per rule and scope in a sliding window, in this process. Checking
 * and recording are one synchronous step, so concurrent calls cannot both take the last
 * place. Only requests let through are recorded: a refusal does not extend the loop's window.
 */
export class LoopDetector {
  /** Per rule: send times of the requests let through, by scope and fingerprint, least recently used first. */
  private readonly seen: Map<string, number[]>[];

  constructor(private readonly rules: readonly NormalizedLoopRule[]) {
    this.seen = rules.map(() => new Map());
  }

  /** Whether any rule is configured: without one, the step costs nothing. */
  get active(): boolean {
    return this.rules.length > 0;
  }

  /**
   * Checks the call against every matching rule and records it under each when none refuses.
   * Returns the first rule that refuses, or undefined. `model` is what `match.model` is
   * compared with: the price table's name for the model, as budgets match it.
   */
  admit(
    call: LlmCallDescriptor,
    model: string,
    scope: Readonly<CallScope>,
    nowMs: number,
  ): LoopVerdict | undefined {
    const places: { times: number[]; key: string; seen: Map<string, number[]> }[] = [];
    const fingerprints = new Map<string, string>();
    for (const [index, rule] of this.rules.entries()) {
      if (!matches(rule, call.provider, model, scope)) continue;
      const seen = this.seen[index]!;
      forgetIdle(seen, nowMs - rule.windowMillis);
      let fingerprint = fingerprints.get(rule.repeats);
      if (fingerprint === undefined) {
        fingerprint = loopFingerprint(call, rule.repeats);
        fingerprints.set(rule.repeats, fingerprint);
      }
      const values = scopeValues(rule, scope);
      const key = `${JSON.stringify(values)}|${fingerprint}`;
      const times = (seen.get(key) ?? []).filter((atMs) => atMs > nowMs - rule.windowMillis);
      if (times.length >= rule.maxIdentical) {
        return {
          rule,
          scope: values,
          count: times.length,
          retryAfterMs: Math.max(0, times[0]! + rule.windowMillis - nowMs),
          fingerprint,
        };
      }
      places.push({ times, key, seen });
    }
    for (const { times, key, seen } of places) {
      times.push(nowMs);
      // Re-inserted, so the map stays ordered by last use and idle entries sit at its front.
      seen.delete(key);
      seen.set(key, times);
      if (seen.size > MAX_TRACKED_REQUESTS) seen.delete(seen.keys().next().value!);
    }
    return undefined;
  }
}

/** Drops entries whose newest request left the window; the map is ordered by last use, so it stops at the first live one. */
function forgetIdle(seen: Map<string, number[]>, windowStartMs: number): void {
  for (const [key, times] of seen) {
    if (times[times.length - 1]! > windowStartMs) return;
    seen.delete(key);
  }
}

function scopeValues(rule: NormalizedLoopRule, scope: Readonly<CallScope>): ScopeValues {
  const values: ScopeValues = {};
  for (const dimension of rule.per) values[dimension] = scope[dimension] ?? UNSET_SCOPE_VALUE;
  return values;
}

function matches(
  rule: NormalizedLoopRule,
  provider: string,
  model: string,
  scope: Readonly<CallScope>,
): boolean {
  for (const [dimension, allowed] of Object.entries(rule.match)) {
    const value =
      dimension === 'provider'
        ? provider.toLowerCase()
        : dimension === 'model'
          ? model.toLowerCase()
          : scope[dimension as 'tenant' | 'user' | 'feature'];
    if (value === undefined || !allowed?.includes(value)) return false;
  }
  return true;
}
