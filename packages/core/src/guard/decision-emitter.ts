import { diag } from '@opentelemetry/api';
import type { DecisionEvent, DecisionHook } from './decision-events';

/** Delivers events to hooks; a throwing or rejecting hook is logged through `diag` and never disturbs the call. */
export class DecisionEmitter {
  private readonly hooks: DecisionHook[];

  constructor(hooks: readonly DecisionHook[]) {
    this.hooks = [...hooks];
  }

  /** Adds a hook; returns a function that removes it. */
  subscribe(hook: DecisionHook): () => void {
    this.hooks.push(hook);
    return () => {
      const index = this.hooks.indexOf(hook);
      if (index >= 0) this.hooks.splice(index, 1);
    };
  }

  emit(event: DecisionEvent): void {
    for (const hook of this.hooks) {
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
}

function reportHookError(event: DecisionEvent, error: unknown): void {
  diag.warn(`tollgate: an onDecision hook failed on a "${event.type}" event`, error);
}
