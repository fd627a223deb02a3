import Table from 'cli-table3';

/**
 * A table with light borders. cli-table3 colours headers by itself; that is turned off so
 * colour follows the caller's `Colors` (none off a terminal).
 */
export function renderTable(head: string[], rows: string[][], align?: ('left' | 'right')[]): string {
  const table = new Table({
    head,
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 },
    colAligns: align,
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
  });
  table.push(...rows);
  const lines = table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd());
  // cli-table3 indents every row by one space even without borders; the table starts at the margin.
  return (
    lines.every((line) => line === '' || line.startsWith(' ')) ? lines.map((line) => line.slice(1)) : lines
  ).join('\n');
}
