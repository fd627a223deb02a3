import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

function run(args: string[]): unknown {
  const output = execFileSync(process.execPath, args, { cwd: fixtures, encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(output.trim().split('\n').at(-1)!);
}

const model = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const expected = {
  spans: [`chat ${model}:allowed`, `chat ${model}:budget_exceeded`],
  refusal: 'BudgetExceededError',
  requests: 1,
};

describe('auto-instrumentation through module hooks (built package, separate processes)', {
  timeout: 60_000,
}, () => {
  it('patches @aws-sdk/client-bedrock-runtime loaded with require()', () => {
    expect(run(['cjs-app.cjs'])).toEqual(expected);
  });

  it('patches it when an ES module imports it, through the loader hook', () => {
    expect(run(['--import', './esm-register.mjs', 'esm-app.mjs'])).toEqual(expected);
  });
});
