import type { Colors } from '../output/colors';
import { formatAmount, formatDuration, formatPercent, formatScope } from '../output/format';
import { renderTable } from '../output/table';
import type { BudgetRow } from './budget-row';

const BAR_WIDTH = 20;

/** The status table: most used first, a bar of spent (█) and reserved (▓) against the limit. */
export function renderStatus(rows: readonly BudgetRow[], nowMs: number, colors: Colors): string {
  if (rows.length === 0) return 'No budget counters found (no call has been gated in the current windows).';
  const body = rows.map((row) => {
    const tone = row.used >= 1 ? colors.red : row.used >= 0.8 ? colors.yellow : colors.green;
    const spentCells = cells(row.spent / (row.limit || 1));
    const reservedCells = Math.min(BAR_WIDTH - spentCells, cells(row.reserved / (row.limit || 1)));
    const bar =
      tone('█'.repeat(spentCells)) +
      colors.cyan('▓'.repeat(reservedCells)) +
      colors.dim('░'.repeat(BAR_WIDTH - spentCells - reservedCells));
    const projection =
      row.projectedAtWindowEnd === undefined
        ? '—'
        : `${formatAmount(row.unit, row.projectedAtWindowEnd)}${
            row.exhaustsAtMs !== undefined
              ? colors.red(` (limit in ${formatDuration(row.exhaustsAtMs - nowMs)})`)
              : ''
          }`;
    return [
      row.budgetId,
      formatScope(row.scope),
      formatAmount(row.unit, row.limit),
      formatAmount(row.unit, row.spent),
      formatAmount(row.unit, row.reserved),
      `${bar} ${tone(formatPercent(row.used).padStart(4))}`,
      row.resetInMs === undefined ? '—' : formatDuration(row.resetInMs),
      projection,
    ];
  });
  return renderTable(
    ['budget', 'scope', 'limit', 'spent', 'reserved', 'used', 'resets in', 'projected at window end'].map(
      (title) => colors.bold(title),
    ),
    body,
    ['left', 'left', 'right', 'right', 'right', 'left', 'right', 'left'],
  );
}

function cells(share: number): number {
  return Math.max(0, Math.min(BAR_WIDTH, Math.round(share * BAR_WIDTH)));
}
