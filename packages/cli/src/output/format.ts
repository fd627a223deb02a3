import type { BudgetUnit } from '@tollgate/core';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** An amount in a budget's unit: `$1.23` (more digits below a dollar), `12,345 tokens`, `7 requests`. */
export function formatAmount(unit: BudgetUnit, amount: number): string {
  if (unit === 'usd') return formatUsd(amount);
  return `${integer.format(amount)} ${unit}`;
}

/** US dollars with the digits that matter: cents from a dollar up, four significant digits below. */
export function formatUsd(amount: number): string {
  if (amount === 0) return '$0';
  if (Math.abs(amount) >= 1)
    return `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `$${amount.toLocaleString('en-US', { maximumSignificantDigits: 4 })}`;
}

export function formatInteger(value: number): string {
  return integer.format(value);
}

/** A share as a percentage with one decimal below 10 %. */
export function formatPercent(share: number): string {
  const percent = share * 100;
  return `${percent < 10 && percent > 0 ? percent.toFixed(1) : Math.round(percent)}%`;
}

/** A duration as its two largest parts: `2d 4h`, `3h 12m`, `4m 05s`, `9s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const total = Math.max(0, Math.round(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
  return `${seconds}s`;
}

/** `width` cells filled in proportion to `share` (capped at full). */
export function shareBar(share: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round(share * width)));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** A moment as local time in `timeZone`: `2026-12-05 00:00 Europe/Paris`. */
export function formatTimeIn(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(ms))
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${timeZone}`;
}

/** `tenant=acme, model=gpt-4o`, or `(all)` for a budget's single instance. */
export function formatScope(scope: Readonly<Record<string, string | undefined>>): string {
  const entries = Object.entries(scope).filter(([, value]) => value !== undefined);
  return entries.length === 0 ? '(all)' : entries.map(([key, value]) => `${key}=${value}`).join(', ');
}
