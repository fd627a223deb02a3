/* `tollgate estimate` and `tollgate prices`, run as a person would: the built binary. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuard, type LlmCallDescriptor } from '@tollgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, hasStackTrace, requireBuiltCli, runCli } from './run-cli';

let dir: string;
beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-estimate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the gate itself reserves for `call` once its tokenizer is ready: a guard admits it and reports its estimate. */
async function gateEstimate(call: LlmCallDescriptor) {
  const guard = createGuard({
    budgets: [{ id: 'b', limit: { usd: 1000 }, window: 'day' }],
    estimator: { waitForTokenizer: true },
  });
  try {
    const admission = await guard.admit(call);
    await admission.settle(undefined);
    return admission.estimate;
  } finally {
    await guard.close();
  }
}

describe('tollgate estimate', { timeout: 30_000 }, () => {
  it("prints the gate's own estimate of an OpenAI chat body read from a file, and which field capped the output", async () => {
    const body = {
      model: 'gpt-4o-2024-08-06',
      n: 2,
      max_tokens: 100_000,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Summarise the plot of Hamlet in three sentences.' },
      ],
    };
    const path = join(dir, 'request.json');
    writeFileSync(path, JSON.stringify(body));
    const gate = await gateEstimate({ provider: 'openai', operation: 'chat', model: body.model, body });

    const json = await runCli(['estimate', path, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      provider: 'openai',
      operation: 'chat',
      pricedAs: 'gpt-4o',
      estimatedInputTokens: gate.estimatedInputTokens,
      method: gate.estimateMethod,
      maxOutputTokens: gate.maxOutputTokens,
      choices: 2,
      worstCaseTokens: gate.worstCaseTokens,
      worstCaseUsd: gate.worstCaseUsd,
    });
    expect(JSON.parse(json.stdout).maxOutputReason).toMatch(
      /^from max_tokens \(100,000\), capped by gpt-4o's maximum output \(16,384\)$/,
    );

    const text = await runCli(['estimate', path]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `input tokens\\s+${gate.estimatedInputTokens}\\s+counted with the model's tokenizer \\(o200k_base\\)`,
      ),
    );
    expect(text.stdout).toMatch(/worst-case cost\s+\$0\.\d+\s+at list price/);
  });

  it('reads an Anthropic body from standard input; says when no max_tokens-like field was set', async () => {
    const body = {
      model: 'claude-sonnet-4-5',
      max_tokens: 2048,
      messages: [{ role: 'user', content: 'Hello' }],
    };
    const gate = await gateEstimate({
      provider: 'anthropic',
      operation: 'messages',
      model: body.model,
      body,
    });
    const result = await runCli(['estimate', '-', '--json'], { input: JSON.stringify(body) });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      provider: 'anthropic',
      operation: 'messages',
      method: 'approximation',
      estimatedInputTokens: gate.estimatedInputTokens,
      maxOutputTokens: 2048,
      worstCaseUsd: gate.worstCaseUsd,
    });

    const responses = await runCli(['estimate', '-', '--json'], {
      input: JSON.stringify({ model: 'gpt-4o', input: 'Hi' }),
    });
    expect(JSON.parse(responses.stdout)).toMatchObject({
      operation: 'responses',
      maxOutputTokens: 16_384,
      maxOutputReason:
        "the request sets no max_output_tokens: gpt-4o's maximum output (16,384) is reserved; set max_output_tokens or defaultMaxOutputTokens to reserve less",
    });
  });

  it('with --config, says what share of each budget the call reserves, and exits 1 when the gate would always refuse it', async () => {
    const budgets = [
      { id: 'tiny', limit: { usd: 0.01 }, window: 'day' as const },
      { id: 'tokens', limit: { tokens: 100_000 }, window: 'hour' as const, match: { model: 'gpt-4o' } },
    ];
    const path = join(dir, 'budgets.json');
    writeFileSync(path, JSON.stringify({ guard: { budgets } }));
    const body = { model: 'gpt-4o', max_tokens: 4000, messages: [{ role: 'user', content: 'Hi' }] };
    // The gate itself refuses it.
    const guard = createGuard({ budgets });
    await expect(
      guard.admit({ provider: 'openai', operation: 'chat', model: 'gpt-4o', body }),
    ).rejects.toThrow(/tiny/);
    await guard.close();

    const result = await runCli(['estimate', '-', '--config', path], { input: JSON.stringify(body) });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /tiny: \$0\.04\d* of \$0\.01 \(400%\) — more than the whole limit: refused every time/,
    );
    expect(result.stdout).toMatch(/tokens: 4,\d{3} tokens of 100,000 tokens \(4\.0%\)/);
    expect(result.stderr).toContain('more than the whole limit of budget "tiny"');
  });

  it('refuses what it cannot estimate with one clear line: Gemini, unpriced models, bad JSON, unknown provider', async () => {
    const gemini = await runCli(['estimate', '-'], {
      input: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }),
    });
    expect(gemini.code).toBe(1);
    expect(gemini.stderr).toBe(
      'error: Gemini request bodies are not supported yet: @tollgate/core estimates OpenAI and Anthropic requests only\n',
    );

    const unpriced = await runCli(['estimate', '-', '--provider', 'openai'], {
      input: JSON.stringify({ model: 'my-finetune', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(unpriced.code).toBe(1);
    expect(unpriced.stdout).toContain('unpriced');
    expect(unpriced.stderr).toContain('No price for "my-finetune": a USD budget would refuse this call');

    const badJson = await runCli(['estimate', '-'], { input: '{"model": ' });
    expect(badJson.code).toBe(1);
    expect(badJson.stderr).toMatch(/^error: standard input is not valid JSON: /);
    expect(hasStackTrace(badJson.stderr)).toBe(false);

    const unknownProvider = await runCli(['estimate', '-'], {
      input: JSON.stringify({ model: 'my-finetune', messages: [] }),
    });
    expect(unknownProvider.code).toBe(2);
    expect(unknownProvider.stderr).toContain('pass --provider openai|anthropic');

    const badChoice = await runCli(['estimate', '-', '--provider', 'mistral'], { input: '{}' });
    expect(badChoice.code).toBe(2);
  });
});

describe('tollgate prices', { timeout: 30_000 }, () => {
  it('lists the table with its checked date, currency and sources', async () => {
    const result = await runCli(['prices']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Prices in USD per 1M tokens, checked \d{4}-\d\d-\d\d \(\d+ days ago\)/);
    expect(result.stdout).toMatch(/^gpt-4o\s+openai\s+chat\s+\$2\.5\s+\$1\.25/m);
    expect(result.stdout).toMatch(/^\s+\[1\] https:\/\//m);
  });

  it('resolves snapshot names and aliases, and fails on a name with no price', async () => {
    const result = await runCli([
      'prices',
      'gpt-4o-2024-08-06',
      'openai/gpt-4o-mini',
      'no-such-model',
      '--json',
    ]);
    expect(result.code).toBe(1);
    const listing = JSON.parse(result.stdout) as {
      currency: string;
      models: { requested: string; model: string | null }[];
    };
    expect(listing.currency).toBe('USD');
    expect(listing.models.map((entry) => [entry.requested, entry.model])).toEqual([
      ['gpt-4o-2024-08-06', 'gpt-4o'],
      ['openai/gpt-4o-mini', 'gpt-4o-mini'],
      ['no-such-model', null],
    ]);
    expect(result.stderr).toContain('No price for "no-such-model"');
  });

  it('applies the price overrides of --config', async () => {
    const path = join(dir, 'prices.yaml');
    writeFileSync(
      path,
      'guard:\n  prices:\n    overrides:\n      my-finetune: { input: 3, output: 12, provider: openai }\n',
    );
    const result = await runCli(['prices', 'my-finetune', '--config', path]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/my-finetune → my-finetune \(model id\)/);
    expect(result.stdout).toMatch(/^my-finetune\s+openai\s+\$3\s+\$12/m);
  });
});

describe('colours', { timeout: 30_000 }, () => {
  const tmux = hasTmux();
  if (!tmux && process.env.CI === 'true') {
    it('has tmux', () => {
      expect.fail('tmux is required under CI=true: apt-get install -y tmux');
    });
  } else if (!tmux) {
    console.warn('SKIPPED: tmux is not installed; the terminal colour test did not run.');
  }

  it('never colours output that is not a terminal', async () => {
    const result = await runCli(['prices', 'gpt-4o']);
    expect(result.stdout).not.toContain('\u001b[');
  });

  it.skipIf(!tmux)('colours a terminal, unless NO_COLOR is set', async () => {
    const session = `tollgate-colour-${process.pid}`;
    const run = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
    run('new-session', '-d', '-s', session, '-x', '200', '-y', '50', 'bash --norc --noprofile');
    try {
      run(
        'send-keys',
        '-t',
        session,
        `node ${CLI} prices gpt-4o; NO_COLOR=1 node ${CLI} prices gpt-4o; echo done-$?`,
        'Enter',
      );
      let screen = '';
      for (let i = 0; i < 100 && !screen.includes('done-0'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        screen = run('capture-pane', '-p', '-e', '-S', '-100', '-t', session);
      }
      expect(screen).toContain('done-0');
      // First run: bold model names on the terminal; second, under NO_COLOR, no escape sequence at all.
      const second = screen.slice(screen.lastIndexOf('Prices in USD'));
      const first = screen.slice(screen.indexOf('Prices in USD'), screen.lastIndexOf('Prices in USD'));
      expect(first).toContain('\u001b[1m'); // bold
      expect(first).toContain('\u001b[2m'); // dim
      expect(second).not.toContain('\u001b[1m');
      expect(second).not.toContain('\u001b[2m');
    } finally {
      run('kill-session', '-t', session);
    }
  });
});

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
