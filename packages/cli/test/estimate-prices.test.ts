/* `tollgate estimate` and `tollgate prices`, run as a person would: the built binary. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuard, type LlmCallDescriptor } from '@tollgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, requireBuiltCli, runCli } from './run-cli';

let dir: string;
beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-estimate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the gate itself reserves for `call`: a guard admits it and reports its estimate. */
async function gateEstimate(call: LlmCallDescriptor) {
  const guard = createGuard({ budgets: [{ id: 'b', limit: { usd: 1000 }, window: 'day' }] });
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
      maxOutputTokens: 4096,
      maxOutputReason: 'the request sets no max_output_tokens: defaultMaxOutputTokens (4,096)',
    });
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
