import type { BudgetMatch } from '../budgets/budget-config';

/** What two requests must share to count as repeats of each other. */
export type LoopRepeatKind =
  /**
   * The same provider, operation, model and request body, key order aside, leaving out the
   * fields that do not change the answer (`stream`, `stream_options`, `user`, `metadata`, …).
   */
  | 'identical'
  /**
   * As `identical`, except that in the conversation (`messages`, `input`, `contents`) only
   * the system/developer messages and the last message a person wrote count: the assistant
   * turns, tool calls and tool results after it may grow. Every model call of one agent turn
   * is then a repeat of the first.
   */
  | 'same-turn';

/** The scope dimensions a loop rule can count separately. */
export type LoopScopeDimension = 'tenant' | 'user' | 'feature';

/**
 * Refuses a request repeated too often: once `maxIdentical` identical requests went out
 * inside `windowMillis`, the next one is refused with `LoopDetectedError` before anything is
 * reserved or sent. Refused requests do not count: as the oldest leaves the window, one more
 * is let through.
 *
 * @example
 * ```ts
 * loops: [{ id: 'retry-storm', maxIdentical: 5, windowMillis: 60_000, per: ['tenant'] }]
 * ```
 */
export interface LoopRuleConfig {
  /** Unique name, used in errors, events and metric attributes. */
  id: string;
  /** Identical requests let through in the window; the next one is refused. */
  maxIdentical: number;
  /** The sliding window repeats are counted in. @default 60_000 */
  windowMillis?: number;
  /** Count separately per value of these dimensions, e.g. `['tenant']`. @default [] (all callers together) */
  per?: readonly LoopScopeDimension[];
  /** Apply only to matching calls. @default every call */
  match?: BudgetMatch;
  /** What counts as a repeat. @default 'identical' */
  repeats?: LoopRepeatKind;
}

/** A loop rule after validation. */
export interface NormalizedLoopRule {
  id: string;
  maxIdentical: number;
  windowMillis: number;
  per: readonly LoopScopeDimension[];
  /** Allowed values per dimension; provider and model lower-cased. */
  match: Readonly<Partial<Record<keyof BudgetMatch, readonly string[]>>>;
  repeats: LoopRepeatKind;
}
