import { diag } from '@opentelemetry/api';
import type { DecisionEvent, DecisionHook, DecisionType } from './decision-events';

interface Subscription {
  readonly hook: DecisionHook;
  /** The event types the hook receives; every type when undefined. */
  readonly types: ReadonlySet<DecisionType> | undefined;
}

/**
 * Delivers events to hooks; a throwing or rejecting hook is logged through `diag` and never
 * disturbs the call. Callers ask `wants(type)` before building a per-call event, so a guard
 * whose hooks only follow, say, threshold crossings builds no event object per call.
 */
export class DecisionEmitter {
  private readonly subscriptions: Subscription[] = [];
  /** Hooks for every type, and per type for the rest: what `wants()` reads. */
  private allTypes = 0;
  private readonly byType = new Map<DecisionType, number>();

  constructor(hooks: readonly DecisionHook[]) {
    for (const hook of hooks) this.subscribe(hook);
  }

  /** Adds a hook, for every event type or only `types`; returns a function that removes it. */
  subscribe(hook: DecisionHook, types?: readonly DecisionType[]): () => void {
    const subscription: Subscription = { hook, types: types ? new Set(types) : undefined };
    this.subscriptions.push(subscription);
    this.count(subscription, 1);
    return () => {
      const index = this.subscriptions.indexOf(subscription);
      if (index < 0) return;
      this.subscriptions.splice(index, 1);
      this.count(subscription, -1);
    };
  }

  /** Whether any hook receives events of `type`. */
  wants(type: DecisionType): boolean {
    return this.allTypes > 0 || (this.byType.get(type) ?? 0) > 0;
  }

  emit(event: DecisionEvent): void {
    for (const { hook, types } of this.subscriptions) {
      if (types && !types.has(event.type)) continue;
      try {
        const result = hook(event);
        if (result && typeof (result as Promise<void>).then === 'function') {
          (result as Promise<void>).then(undefined, (error: unknown) => reportHookError(event, error));
        }
      } catch (error) {
        reportHookError(event, error);
      }
    }
  }

  private count(subscription: Subscription, delta: number): void {
    if (!subscription.types) {
      this.allTypes += delta;
      return;
    }
    for (const type of subscription.types) this.byType.set(type, (this.byType.get(type) ?? 0) + delta);
  }
}

function reportHookError(event: DecisionEvent, error: unknown): void {
  diag.warn(`tollgate: an onDecision hook failed on a "${event.type}" event`, error);
}
