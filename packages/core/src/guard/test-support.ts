/**
 * Test support for the guard's tests, not part of the package (tsup builds from index.ts only).
 */
import type { LlmCallDescriptor } from '../call/llm-call';
import type { GuardConfig } from '../config/guard-config';
import type { DecisionEvent } from '../events/decision-events';
import { createGuard, type Guard } from './guard';

/** Guards a test made; `closeGuards` (run after each test) closes them. */
export const guards: Guard[] = [];

/** Closes every guard in `guards`. */
export async function closeGuards(): Promise<void> {
  await Promise.all(guards.splice(0).map((guard) => guard.close()));
}

/** A guard with `config`, recording its decision events, closed after the test. */
export function guardWith(config: GuardConfig): { guard: Guard; events: DecisionEvent[] } {
  const events: DecisionEvent[] = [];
  const guard = createGuard({ ...config, onDecision: (event) => void events.push(event) });
  guards.push(guard);
  return { guard, events };
}

/** An OpenAI chat call with one user message and a `max_tokens` cap. */
export function chat(
  model: string,
  maxTokens: number,
  content = 'Summarise the quarterly report in three bullet points.',
): LlmCallDescriptor {
  return {
    provider: 'openai',
    operation: 'chat',
    model,
    body: { model, max_tokens: maxTokens, messages: [{ role: 'user', content }] },
  };
}
