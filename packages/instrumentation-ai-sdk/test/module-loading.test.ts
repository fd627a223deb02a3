import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

function run(args: string[]): unknown {
  const output = execFileSync(process.execPath, args, { cwd: fixtures, encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(output.trim().split('\n').at(-1)!);
}

const expected = {
  spans: [
    'chat gpt-4o-mini:allowed',
    'chat gpt-4o-mini:budget_exceeded',
    'chat claude-haiku-4-5:allowed',
    'chat claude-haiku-4-5:budget_exceeded',
  ],
  refusals: ['BudgetExceededError', 'BudgetExceededError'],
  requests: 2,
};

describe('auto-instrumentation through module hooks (built package, separate processes)', {
  timeout: 60_000,
}, () => {
  it('patches the CommonJS copies of the provider packages loaded with require()', () => {
    expect(run(['cjs-app.cjs'])).toEqual(expected);
  });

  it('patches the ESM copies of the provider packages through the loader hook', () => {
    expect(run(['--import', './esm-register.mjs', 'esm-app.mjs'])).toEqual(expected);
  });
});
