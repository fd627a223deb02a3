/*
 * `tollgate status` against a real redis-server (started here on a free loopback port) filled
 * by a real guard using the Redis ledger; `--watch` is run in a real terminal through tmux.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Admission, createGuard, type Guard, type GuardConfig, withScope } from '@tollgate/core';
import { createRedisLedger } from '@tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, startRedisServer, type TestRedisServer } from '../../redis/test/redis-server';
import { CLI, hasStackTrace, requireBuiltCli, runCli } from './run-cli';

const skip = skipWithoutRedis();
const PREFIX = 'cli-status-test';

const guardConfig: GuardConfig = {
  budgets: [
    { id: 'daily-usd', limit: { usd: 1 }, window: 'day', timeZone: 'UTC', per: ['tenant'] },
    { id: 'hourly-requests', limit: { requests: 10 }, window: { rollingMillis: 3_600_000 } },
  ],
};

/** One gpt-4o call settled at 1,000 input and 500 output tokens: $0.0075 at list price. */
async function spend(guard: Guard, tenant: string): Promise<void> {
  await withScope({ tenant }, () =>
    guard.run(
      {
        provider: 'openai',
        operation: 'chat',
        model: 'gpt-4o',
        body: { max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] },
      },
      async () => 'ok',
      { usage: () => ({ inputTokens: 1000, outputTokens: 500 }) },
    ),
  );
}

interface StatusRow {
  budgetId: string;
  unit: string;
  scope: Record<string, string>;
  limit: number;
  spent: number;
  reserved: number;
  used: number;
  resetInMs: number | null;
  projectedAtWindowEnd?: number;
}

describe.skipIf(skip)('tollgate status --redis', { timeout: 30_000 }, () => {
  let redis: TestRedisServer;
  let guard: Guard;
  let open: Admission;
  let dir: string;
  let configPath: string;

  beforeAll(async () => {
    requireBuiltCli();
    redis = await startRedisServer();
    guard = createGuard({ ...guardConfig, ledger: createRedisLedger({ url: redis.url, keyPrefix: PREFIX }) });
    for (let i = 0; i < 3; i++) await spend(guard, 'acme');
    await spend(guard, 'globex');
    // A call in flight: its reservation is what `reserved` shows.
    open = await guard.admit(
      {
        provider: 'openai',
        operation: 'chat',
        model: 'gpt-4o',
        body: { max_tokens: 1000, messages: [{ role: 'user', content: 'Hi' }] },
      },
      { scope: { tenant: 'globex' } },
    );
    dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
    configPath = join(dir, 'tollgate.yaml');
    writeFileSync(
      configPath,
      [
        'guard:',
        '  budgets:',
        '    - { id: daily-usd, limit: { usd: 1 }, window: day, timeZone: UTC, per: [tenant] }',
        '    - { id: hourly-requests, limit: { requests: 10 }, window: { rollingMillis: 3600000 } }',
        '    - { id: monthly-usd, limit: { usd: 500 }, window: month, timeZone: America/New_York }',
      ].join('\n'),
    );
  }, 30_000);

  afterAll(async () => {
    await open?.settle({ inputTokens: 1, outputTokens: 1 });
    await guard?.close();
    await redis?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists every budget instance with the ledger figures the guard sees, most used first', async () => {
    const result = await runCli(['status', '--redis', redis.url, '--key-prefix', PREFIX, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = (JSON.parse(result.stdout) as { budgets: StatusRow[] }).budgets;
    expect(rows.map((row) => [row.budgetId, row.scope.tenant])).toEqual([
      ['hourly-requests', undefined],
      ['daily-usd', 'acme'],
      ['daily-usd', 'globex'],
    ]);
    for (const tenant of ['acme', 'globex']) {
      const [expected] = await guard.budgetStatus('daily-usd', { tenant });
      const row = rows.find((candidate) => candidate.scope.tenant === tenant)!;
      expect(row).toMatchObject({ unit: 'usd', limit: 1 });
      expect(row.spent).toBeCloseTo(expected!.spent, 9);
      expect(row.reserved).toBeCloseTo(expected!.reserved, 9);
      expect(row.resetInMs).toBeGreaterThan(0);
      expect(row.resetInMs).toBeLessThanOrEqual(86_400_000);
    }
    expect(rows[1]!.spent).toBeCloseTo(3 * 0.0075, 9);
    expect(rows[2]!.reserved).toBeGreaterThan(0);
    // 4 settled requests and 1 in flight out of 10.
    expect(rows[0]).toMatchObject({ unit: 'requests', limit: 10, spent: 4, reserved: 1, used: 0.5 });
    // A calendar window projects its spend to the window end; more than spent so far, since the day is not over.
    expect(rows[1]!.projectedAtWindowEnd).toBeGreaterThanOrEqual(rows[1]!.spent);
  });

  it('prints a table a person reads: bar, share used, time to reset', async () => {
    const result = await runCli(['status', '--redis', redis.url, '--key-prefix', PREFIX]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    const header = lines.findIndex((line) => line.startsWith('budget'));
    expect(lines[header]).toMatch(/budget\s+scope\s+limit\s+spent\s+reserved\s+used\s+resets in/);
    expect(lines[header + 1]).toMatch(
      /^hourly-requests\s+\(all\)\s+10 requests\s+4 requests\s+1 requests\s+█{8}▓{2}░{10}\s+50%/,
    );
    // How far the daily reset is depends on the time of day the test runs: hours, minutes or seconds.
    expect(lines[header + 2]).toMatch(
      /^daily-usd\s+tenant=acme\s+\$1\.00\s+\$0\.0225\s+\$0\s+░+\s+2\.\d%\s+(\d+h \d\dm|\d+m \d\ds|\d+s)/,
    );
    expect(result.stdout).not.toContain('\u001b['); // no colour off a terminal
  });

  it('with --config, shows configured budgets nothing has spent from yet', async () => {
    const result = await runCli([
      'status',
      '--redis',
      redis.url,
      '--key-prefix',
      PREFIX,
      '--config',
      configPath,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const rows = (JSON.parse(result.stdout) as { budgets: StatusRow[] }).budgets;
    expect(rows.find((row) => row.budgetId === 'monthly-usd')).toMatchObject({ spent: 0, limit: 500 });
  });

  it('reads TOLLGATE_REDIS_URL when --redis is not given', async () => {
    const result = await runCli(['status', '--key-prefix', PREFIX, '--json'], {
      env: { TOLLGATE_REDIS_URL: redis.url },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).budgets).toHaveLength(3);
  });

  it('without a source is a usage error (exit 2); an unreachable Redis is exit 1, one line, no stack', async () => {
    const none = await runCli(['status']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('pass --redis URL (or set TOLLGATE_REDIS_URL)');

    const down = await runCli(['status', '--redis', 'redis://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^error: Cannot read budgets from Redis at redis:\/\/127\.0\.0\.1:1/);
    expect(hasStackTrace(down.stderr)).toBe(false);
  });

  describe('--watch in a terminal (tmux)', () => {
    const tmux = hasTmux();
    if (!tmux) {
      if (process.env.CI === 'true') {
        it('has tmux', () => {
          expect.fail('tmux is required under CI=true: apt-get install -y tmux');
        });
      } else {
        console.warn(
          'SKIPPED: tmux is not installed; the `tollgate status --watch` terminal test did not run.',
        );
      }
    }

    it.skipIf(!tmux)(
      'refreshes in place and gives the terminal back on Ctrl-C',
      async () => {
        const session = `tollgate-cli-${process.pid}`;
        const tmuxRun = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
        const screen = () => tmuxRun('capture-pane', '-p', '-t', session);
        tmuxRun('new-session', '-d', '-s', session, '-x', '200', '-y', '30', 'bash --norc --noprofile');
        try {
          tmuxRun('send-keys', '-t', session, 'clear; echo before-watch', 'Enter');
          tmuxRun(
            'send-keys',
            '-t',
            session,
            `NO_COLOR=1 node ${CLI} status --redis ${redis.url} --key-prefix ${PREFIX} --watch 0.5`,
            'Enter',
          );
          const first = await waitForScreen(screen, (text) => /tenant=acme\s+\$1\.00\s+\$0\.0225/.test(text));
          // In place: the header is on the first line of the (alternate) screen, not scrolled below the prompt.
          expect(first.split('\n')[0]).toMatch(/^tollgate status\s+Redis/);
          expect(first).not.toContain('before-watch');

          await spend(guard, 'acme');
          const refreshed = await waitForScreen(screen, (text) =>
            /tenant=acme\s+\$1\.00\s+\$0\.03\b/.test(text),
          );
          expect(refreshed.match(/tenant=acme/g)).toHaveLength(1);

          tmuxRun('send-keys', '-t', session, 'C-c');
          tmuxRun('send-keys', '-t', session, 'echo "exit=$?"', 'Enter');
          const after = await waitForScreen(screen, (text) => text.includes('exit=0'));
          // The alternate screen is gone: the shell's own screen is back, without the table.
          expect(after).toContain('before-watch');
          expect(after).not.toContain('tenant=acme');
        } finally {
          tmuxRun('kill-session', '-t', session);
        }
      },
      30_000,
    );
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

async function waitForScreen(screen: () => string, matches: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 15_000;
  let text = '';
  while (Date.now() < deadline) {
    text = screen();
    if (matches(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the terminal never showed what was expected; last screen:\n${text}`);
}
