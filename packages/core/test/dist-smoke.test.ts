import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function runNode(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: packageRoot, encoding: 'utf8' }).trim();
}

// Loads the built package the way users do, through the exports map, in both module systems.
const probe = `
  const errors = [t.TollgateError, t.BudgetExceededError, t.RateLimitedError].map((c) => typeof c).join(',');
  const guard = t.createGuard({ budgets: [{ id: 'b', limit: { usd: 1 }, window: 'day' }] });
  const resolved = t.PriceTable.bundled().resolve('gpt-4o-2024-08-06').model;
  guard.close().then(() => console.log([typeof t.withScope, errors, resolved].join('|')));
`;

describe('built output', { timeout: 60_000 }, () => {
  it('loads through require()', () => {
    expect(runNode(['-e', `const t = require('@tollgate/core'); ${probe}`])).toBe(
      'function|function,function,function|gpt-4o',
    );
  });

  it('loads through import', () => {
    expect(runNode(['--input-type=module', '-e', `import * as t from '@tollgate/core'; ${probe}`])).toBe(
      'function|function,function,function|gpt-4o',
    );
  });
});
