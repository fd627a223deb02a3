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
  spans: ['generate_content gemini-2.5-flash:allowed', 'generate_content gemini-2.5-flash:budget_exceeded'],
  refusal: 'BudgetExceededError',
  requests: 1,
};

describe('auto-instrumentation through module hooks (built package, separate processes)', {
  timeout: 60_000,
}, () => {
  it('patches the CommonJS copy of @google/genai loaded with require()', () => {
    expect(run(['cjs-app.cjs'])).toEqual(expected);
  });

  it('patches the ESM copy of @google/genai through the loader hook', () => {
    expect(run(['--import', './esm-register.mjs', 'esm-app.mjs'])).toEqual(expected);
  });
});
