/* `tollgate check FILE`, run as a person would: the built binary on real config files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuard, type GuardConfig, PriceTable } from '@tollgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, requireBuiltCli, runCli } from './run-cli';

let dir: string;
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-check-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tollgate check', { timeout: 30_000 }, () => {
  it('explains a valid YAML config: budgets with window and next reset in their time zone, limits, rules', async () => {
    const path = file(
      'tollgate.yaml',
      `serviceName: api
guard:
  budgets:
    - id: daily-spend
      limit: { usd: 25 }
      window: day
      timeZone: Asia/Tokyo
      alertAt: [0.8]
    - id: tenant-tokens
      limit: { tokens: 2000000 }
      window: { rollingMillis: 3600000 }
      per: [tenant]
  rateLimits:
    - { provider: openai, model: gpt-4o, rpm: 500, tpm: 30000 }
  policies:
    - id: cheaper
      when: { budget: daily-spend, usedAbove: 0.8 }
      action: fallback
      models: { gpt-4o: gpt-4o-mini }
    - id: failover
      when: { circuitOpen: true }
      action: fallback
      models: { gpt-4o-mini: 'anthropic:claude-haiku-4-5' }
    - id: cheapest
      action: cheapest
      models: [gpt-4o-mini, 'gcp.gemini:gemini-2.0-flash']
  loops:
    - { id: retry-storm, maxIdentical: 3, per: [tenant] }
    - { id: agent-steps, maxIdentical: 20, windowMillis: 600000, repeats: same-turn }
`,
    );
    const result = await runCli(['check', path]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${path} is valid`);
    expect(result.stdout).toContain('daily-spend: $25.00 per day (Asia/Tokyo)');
    // Tokyo midnight, in Tokyo time.
    expect(result.stdout).toMatch(
      /this window: \d{4}-\d\d-\d\d 00:00 Asia\/Tokyo → \d{4}-\d\d-\d\d 00:00 Asia\/Tokyo; resets in \d+h \d\dm/,
    );
    expect(result.stdout).toContain('tenant-tokens: 2,000,000 tokens per rolling 1h 00m');
    expect(result.stdout).toContain('one instance per tenant');
    expect(result.stdout).toContain('openai (gpt-4o): 500 requests/min, 30,000 tokens/min, per model');
    expect(result.stdout).toContain(
      'cheaper: when daily-spend is more than 80% used, switch gpt-4o → gpt-4o-mini',
    );
    expect(result.stdout).toContain(
      'failover: when its circuit is open, switch gpt-4o-mini → anthropic:claude-haiku-4-5',
    );
    expect(result.stdout).toContain(
      'cheapest: always, send to the cheapest available of gpt-4o-mini, gcp.gemini:gemini-2.0-flash',
    );
    expect(result.stdout).not.toContain('has no price');
    expect(result.stdout).toContain(
      'retry-storm: refuses the identical request after 3 in 1m 00s, per tenant',
    );
    expect(result.stdout).toContain('agent-steps: refuses the call in one agent turn after 20 in 10m 00s');
    expect(result.stdout).not.toContain('Warnings');
  });

  it('fails with the exact message createGuard() throws, naming the field, exit 1, no stack', async () => {
    const guard: GuardConfig = {
      budgets: [{ id: 'daily', limit: { usd: -5 }, window: 'day' }],
    };
    let expected = '';
    try {
      createGuard(guard);
    } catch (error) {
      expected = (error as Error).message;
    }
    expect(expected).toContain('budgets[0].limit.usd');
    const result = await runCli(['check', file('bad.json', JSON.stringify({ guard }))]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`error: ${expected}\n`);
  });

  it('reads the file as TOLLGATE_CONFIG is read: unknown top-level keys and bad YAML are errors', async () => {
    const unknown = await runCli(['check', file('flat.yaml', 'budgets: []\n')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: Invalid Tollgate config at budgets: is not a known option/);
    const broken = await runCli(['check', file('broken.yaml', 'guard: {budgets: [\n')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('is not valid YAML');
    expect(hasStackTrace(broken.stderr)).toBe(false);
    const missing = await runCli(['check', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Cannot read');
  });

  it('warns about unpriced models named in rules and a stale price table; --strict makes them fail', async () => {
    const path = file(
      'warn.yaml',
      `guard:
  priceTableMaxAgeDays: 0.5
  rateLimits:
    - { provider: openai, model: gpt-nonexistent, rpm: 5 }
  policies:
    - id: fallback
      when: { budget: daily, usedAbove: 0.5 }
      action: fallback
      models: { gpt-4o: made-up-mini }
  budgets:
    - { id: daily, limit: { tokens: 100000 }, window: day }
`,
    );
    const result = await runCli(['check', path]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('rateLimits[0].model: model "gpt-nonexistent" has no price');
    expect(result.stdout).toContain('policies[0].models["gpt-4o"]: model "made-up-mini" has no price');
    // Stale from the day after the bundled table was checked (always, except on that very day).
    const stale = PriceTable.bundled().ageDays(Date.now()) >= 1;
    const staleWarning =
      /the price table was checked \d+ days ago \(\d{4}-\d\d-\d\d\), more than priceTableMaxAgeDays \(0\.5\)/;
    if (stale) expect(result.stdout).toMatch(staleWarning);
    else expect(result.stdout).not.toMatch(staleWarning);
    const strict = await runCli(['check', '--strict', path]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain(`${stale ? 3 : 2} warning(s) (--strict)`);
  });

  it('refuses a fallback to an unpriced model under a USD budget, as createGuard() does', async () => {
    const path = file(
      'unpriced-fallback.yaml',
      `guard:
  policies:
    - id: fallback
      when: { budget: daily, usedAbove: 0.5 }
      action: fallback
      models: { gpt-4o: gpt-4o-mni }
  budgets:
    - { id: daily, limit: { usd: 1 }, window: day }
`,
    );
    const result = await runCli(['check', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: Invalid Tollgate config at policies\[0\]\.models/m);
    expect(result.stderr).not.toContain('    at ');
  });

  it('a missing argument or unknown option is a usage error (exit 2); --help is exit 0', async () => {
    const missing = await runCli(['check']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'file'");
    const unknown = await runCli(['check', '--frobnicate', 'x.yaml']);
    expect(unknown.code).toBe(2);
    for (const command of ['check', 'estimate', 'prices', 'status']) {
      const help = await runCli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: tollgate ${command}`);
      expect(help.stdout).toContain('Exit codes:');
    }
  });
});
