import type { BudgetWindow, CalendarWindow } from './budget-config';

/** A half-open interval of epoch milliseconds `[startMs, endMs)`. */
export interface WindowBounds {
  startMs: number;
  endMs: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Tells whether `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** True for a `{ rollingMillis }` window. */
export function isRollingWindow(window: BudgetWindow): window is { rollingMillis: number } {
  return typeof window === 'object';
}

/**
 * The calendar window of `kind` containing the instant `atMs`, aligned in `timeZone`.
 * Days, weeks and months start at local midnight, so a DST day lasts 23 or 25 hours.
 */
export function calendarWindowAt(kind: CalendarWindow, timeZone: string, atMs: number): WindowBounds {
  const local = zonedFields(timeZone, atMs);
  switch (kind) {
    case 'minute': {
      const startMs = atMs - local.second * 1000 - local.millisecond;
      return { startMs, endMs: startMs + MINUTE_MS };
    }
    case 'hour': {
      // Offsets change on whole hours in practice, so the local hour is a fixed-length span.
      const startMs = atMs - (local.minute * 60 + local.second) * 1000 - local.millisecond;
      return { startMs, endMs: startMs + HOUR_MS };
    }
    case 'day':
      return {
        startMs: startOfLocalDay(timeZone, local.year, local.month, local.day),
        endMs: startOfLocalDay(timeZone, local.year, local.month, local.day + 1),
      };
    case 'week': {
      const daysSinceMonday = (local.weekday + 6) % 7;
      const mondayDay = local.day - daysSinceMonday;
      return {
        startMs: startOfLocalDay(timeZone, local.year, local.month, mondayDay),
        endMs: startOfLocalDay(timeZone, local.year, local.month, mondayDay + 7),
      };
    }
    case 'month':
      return {
        startMs: startOfLocalDay(timeZone, local.year, local.month, 1),
        endMs: startOfLocalDay(timeZone, local.year, local.month + 1, 1),
      };
  }
}

/**
 * Remembers the last window computed for one budget, so the common case — a call in the
 * same window as the previous one — costs two comparisons instead of an `Intl` lookup.
 */
export class CalendarWindowClock {
  private cached: WindowBounds = { startMs: 0, endMs: 0 };

  constructor(
    private readonly kind: CalendarWindow,
    private readonly timeZone: string,
  ) {}

  at(nowMs: number): WindowBounds {
    if (nowMs < this.cached.startMs || nowMs >= this.cached.endMs) {
      this.cached = calendarWindowAt(this.kind, this.timeZone, nowMs);
    }
    return this.cached;
  }
}

interface ZonedFields {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function zonedFields(timeZone: string, atMs: number): ZonedFields {
  const fields: ZonedFields = {
    year: 0,
    month: 0,
    day: 0,
    hour: 0,
    minute: 0,
    second: 0,
    millisecond: 0,
    weekday: 0,
  };
  for (const part of formatterFor(timeZone).formatToParts(atMs)) {
    switch (part.type) {
      case 'year':
        fields.year = Number(part.value);
        break;
      case 'month':
        fields.month = Number(part.value);
        break;
      case 'day':
        fields.day = Number(part.value);
        break;
      case 'hour':
        fields.hour = Number(part.value);
        break;
      case 'minute':
        fields.minute = Number(part.value);
        break;
      case 'second':
        fields.second = Number(part.value);
        break;
      case 'weekday':
        fields.weekday = WEEKDAYS[part.value] ?? 0;
        break;
    }
  }
  fields.millisecond = ((atMs % 1000) + 1000) % 1000;
  return fields;
}

/** Milliseconds the zone's wall clock is ahead of UTC at `atMs`. */
function utcOffsetMs(timeZone: string, atMs: number): number {
  const f = zonedFields(timeZone, atMs);
  const wallAsUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second, f.millisecond);
  return wallAsUtc - atMs;
}

/**
 * The first instant of the local calendar day `year-month-day` (month and day may overflow,
 * as with `Date.UTC`). Where a DST jump skips local midnight, the day starts at the first
 * local time that exists.
 */
function startOfLocalDay(timeZone: string, year: number, month: number, day: number): number {
  const midnightAsUtc = Date.UTC(year, month - 1, day);
  let candidate = midnightAsUtc - utcOffsetMs(timeZone, midnightAsUtc);
  // A second pass corrects for an offset that differs on either side of the transition.
  candidate = midnightAsUtc - utcOffsetMs(timeZone, candidate);
  const wanted = new Date(midnightAsUtc);
  const got = zonedFields(timeZone, candidate);
  if (got.day !== wanted.getUTCDate() || got.month !== wanted.getUTCMonth() + 1) {
    // Local midnight does not exist (the clock jumped past it): step forward to the first instant of the day.
    while (zonedFields(timeZone, candidate).day !== wanted.getUTCDate()) candidate += 15 * MINUTE_MS;
    candidate -= zonedFields(timeZone, candidate).minute * MINUTE_MS;
  }
  return candidate;
}
