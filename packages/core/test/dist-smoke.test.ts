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

  // The kit's base class and call gate work with a guard from the main entry, in both module systems.
  const kitProbe = `
    const guard = t.createGuard();
    const gate = new kit.CallGate(guard, api.trace.getTracer('smoke'), api.metrics.getMeter('smoke'));
    const names = [typeof kit.TollgateInstrumentation, typeof kit.gatedAPIPromise, kit.semconv.ATTR_TOLLGATE_GATE_DECISION];
    guard.close().then(() => console.log([gate.guard === guard, ...names].join('|')));
  `;
  const kitExpected = 'true|function|function|tollgate.gate.decision';

  it('loads the instrumentation kit through require()', () => {
    const load = `const t = require('@tollgate/core'); const kit = require('@tollgate/core/instrumentation'); const api = require('@opentelemetry/api');`;
    expect(runNode(['-e', `${load} ${kitProbe}`])).toBe(kitExpected);
  });

  it('loads the instrumentation kit through import', () => {
    const load = `import * as t from '@tollgate/core'; import * as kit from '@tollgate/core/instrumentation'; import * as api from '@opentelemetry/api';`;
    expect(runNode(['--input-type=module', '-e', `${load} ${kitProbe}`])).toBe(kitExpected);
  });

  it('keeps the main entry free of the kit and test dependencies', () => {
    const loaded = `require('@tollgate/core');
      console.log(Object.keys(require.cache).filter((file) => /@opentelemetry[\\/]instrumentation|vitest|fast-check/.test(file)).length);`;
    expect(runNode(['-e', loaded])).toBe('0');
  });
});
