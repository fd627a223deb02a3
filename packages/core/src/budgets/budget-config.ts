import type { ScopeDimension } from '../scope/scope';
import type { BudgetUnit } from './budget-units';

// The units themselves are defined in budget-units.ts; re-exported for code that reads budget configs.
export type { BudgetUnit };

/** Calendar windows, aligned in the budget's time zone. Weeks start on Monday (ISO 8601). */
export type CalendarWindow = 'minute' | 'hour' | 'day' | 'week' | 'month';

/** A sliding window covering the last `rollingMillis` before now. */
export interface RollingWindow {
  rollingMillis: number;
}

export type BudgetWindow = CalendarWindow | RollingWindow;

/** Restricts a budget to some calls; each field matches one value or any of a list. */
export interface BudgetMatch {
  provider?: string | readonly string[];
  model?: string | readonly string[];
  tenant?: string | readonly string[];
  user?: string | readonly string[];
  feature?: string | readonly string[];
}

/** One budget. With `per`, it is a template: one independent instance per distinct scope value. */
export interface BudgetConfig {
  /** Unique name, used in errors, events and metric attributes. */
  id: string;
  /** At least one unit. Each unit given is enforced independently; a call must fit all of them. */
  limit: Partial<Record<BudgetUnit, number>>;
  /** Calendar window name or `{ rollingMillis }`. */
  window: BudgetWindow;
  /**
   * IANA time zone that calendar windows align to (day starts at local midnight; DST-aware).
   * @default 'UTC'
   */
  timeZone?: string;
  /** Split the budget into one instance per value of these dimensions, e.g. `['tenant']`. @default [] (one global instance) */
  per?: readonly ScopeDimension[];
  /** Apply only to matching calls. @default every call */
  match?: BudgetMatch;
  /** Fractions of the limit at which a `threshold-crossed` event fires, once per instance per window. @default [] */
  alertAt?: readonly number[];
}
