import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function runNode(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: packageRoot, encoding: 'utf8' }).trim();
}

// Loads the built package through its exports map in both module systems. No server is
// needed: clients connect lazily and are closed at once.
const probe = `
  const ledger = r.createRedisLedger({ url: 'redis://127.0.0.1:1', keyPrefix: 'smoke' });
  const error = new r.GuardStoreUnavailableError({ operation: 'reserve', reason: 'timeout', timeoutMillis: 5 });
  const branded = [r.GuardStoreUnavailableError.isInstance(error), error instanceof core.TollgateError].join(',');
  ledger.close().then(() => console.log([typeof r.createRedisGuardStore, typeof r.createRedisLimiterDatastore, ledger.keyPrefix, branded].join('|')));
`;
const expected = 'function|function|smoke|true,true';

describe('built output', () => {
  it('loads through require()', () => {
    expect(
      runNode([
        '-e',
        `const r = require('@tollgate/redis'); const core = require('@tollgate/core'); ${probe}`,
      ]),
    ).toBe(expected);
  });

  it('loads through import', () => {
    expect(
      runNode([
        '--input-type=module',
        '-e',
        `import * as r from '@tollgate/redis'; import * as core from '@tollgate/core'; ${probe}`,
      ]),
    ).toBe(expected);
  });
});
