import { describe, expect, it } from 'vitest';
import { CalendarWindowClock, calendarWindowAt, isValidTimeZone } from './budget-window';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('calendarWindowAt', () => {
  it('aligns UTC windows to the calendar', () => {
    const now = at('2026-03-18T13:47:21.500Z'); // a Wednesday
    expect(iso(calendarWindowAt('minute', 'UTC', now).startMs)).toBe('2026-03-18T13:47:00.000Z');
    expect(iso(calendarWindowAt('hour', 'UTC', now).startMs)).toBe('2026-03-18T13:00:00.000Z');
    const day = calendarWindowAt('day', 'UTC', now);
    expect([iso(day.startMs), iso(day.endMs)]).toEqual([
      '2026-03-18T00:00:00.000Z',
      '2026-03-19T00:00:00.000Z',
    ]);
    const week = calendarWindowAt('week', 'UTC', now);
    expect([iso(week.startMs), iso(week.endMs)]).toEqual([
      '2026-03-16T00:00:00.000Z',
      '2026-03-23T00:00:00.000Z',
    ]);
    const month = calendarWindowAt('month', 'UTC', now);
    expect([iso(month.startMs), iso(month.endMs)]).toEqual([
      '2026-03-01T00:00:00.000Z',
      '2026-04-01T00:00:00.000Z',
    ]);
  });

  it('starts the day at local midnight in the configured zone', () => {
    // 03:00 UTC is still the previous evening in New York (UTC-4 in summer).
    const day = calendarWindowAt('day', 'America/New_York', at('2026-07-10T03:00:00Z'));
    expect([iso(day.startMs), iso(day.endMs)]).toEqual([
      '2026-07-09T04:00:00.000Z',
      '2026-07-10T04:00:00.000Z',
    ]);
  });

  it('gives the spring-forward day 23 hours and the fall-back day 25', () => {
    const spring = calendarWindowAt('day', 'Europe/Berlin', at('2026-03-29T12:00:00Z'));
    expect(iso(spring.startMs)).toBe('2026-03-28T23:00:00.000Z');
    expect((spring.endMs - spring.startMs) / 3_600_000).toBe(23);
    const fall = calendarWindowAt('day', 'Europe/Berlin', at('2026-10-25T12:00:00Z'));
    expect(iso(fall.startMs)).toBe('2026-10-24T22:00:00.000Z');
    expect((fall.endMs - fall.startMs) / 3_600_000).toBe(25);
  });

  it('keeps hour windows an hour long across the repeated local hour', () => {
    // 01:30 EDT and 01:30 EST are different hours although the wall clock reads the same.
    const first = calendarWindowAt('hour', 'America/New_York', at('2026-11-01T05:30:00Z'));
    const second = calendarWindowAt('hour', 'America/New_York', at('2026-11-01T06:30:00Z'));
    expect(iso(first.startMs)).toBe('2026-11-01T05:00:00.000Z');
    expect(iso(second.startMs)).toBe('2026-11-01T06:00:00.000Z');
  });

  it('aligns to half-hour offsets', () => {
    const day = calendarWindowAt('day', 'Asia/Kolkata', at('2026-05-05T20:00:00Z'));
    expect(iso(day.startMs)).toBe('2026-05-05T18:30:00.000Z');
    const hour = calendarWindowAt('hour', 'Asia/Kolkata', at('2026-05-05T20:10:00Z'));
    expect(iso(hour.startMs)).toBe('2026-05-05T19:30:00.000Z');
  });

  it('starts a day whose midnight does not exist at its first real instant', () => {
    // Chile springs forward at 24:00 → 01:00 local time on 2026-09-06.
    const day = calendarWindowAt('day', 'America/Santiago', at('2026-09-06T15:00:00Z'));
    expect(iso(day.startMs)).toBe('2026-09-06T04:00:00.000Z');
    expect((day.endMs - day.startMs) / 3_600_000).toBe(23);
  });

  it('rolls months of every length and across years', () => {
    const feb = calendarWindowAt('month', 'UTC', at('2028-02-29T10:00:00Z'));
    expect([iso(feb.startMs), iso(feb.endMs)]).toEqual([
      '2028-02-01T00:00:00.000Z',
      '2028-03-01T00:00:00.000Z',
    ]);
    const dec = calendarWindowAt('month', 'Pacific/Auckland', at('2026-12-31T12:00:00Z'));
    expect(iso(dec.startMs)).toBe('2026-12-31T11:00:00.000Z'); // already January 1st in Auckland
  });

  it('covers every instant with exactly one window (consecutive windows touch)', () => {
    let cursor = at('2026-10-20T00:00:00Z');
    for (let i = 0; i < 20; i++) {
      const window = calendarWindowAt('day', 'Europe/London', cursor);
      expect(window.startMs).toBeLessThanOrEqual(cursor);
      expect(window.endMs).toBeGreaterThan(cursor);
      expect(calendarWindowAt('day', 'Europe/London', window.endMs).startMs).toBe(window.endMs);
      cursor = window.endMs;
    }
  });
});

describe('CalendarWindowClock', () => {
  it('returns the cached window inside it and a new one past its end', () => {
    const clock = new CalendarWindowClock('hour', 'UTC');
    const first = clock.at(at('2026-01-01T10:15:00Z'));
    expect(clock.at(at('2026-01-01T10:59:59Z'))).toBe(first);
    expect(iso(clock.at(at('2026-01-01T11:00:00Z')).startMs)).toBe('2026-01-01T11:00:00.000Z');
  });
});

describe('isValidTimeZone', () => {
  it('accepts IANA zones and refuses made-up ones', () => {
    expect(isValidTimeZone('Europe/Paris')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
