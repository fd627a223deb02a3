// Order statistics and formatting for the report.

export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export const median = (values) => quantile(values, 0.5);
export const p99 = (values) => quantile(values, 0.99);

export function fixed(value, digits = 2) {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** `fixed` with an explicit sign for differences: +0.120, -0.003. */
export function signed(value, digits = 2) {
  return Number.isFinite(value) && value >= 0 ? `+${fixed(value, digits)}` : fixed(value, digits);
}

export function thousands(value) {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

/** A Markdown table; the same text goes to the terminal and to docs/benchmarks.md. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, index) => (index === 0 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}
