/*
 * Runs the real Prometheus tooling on the shipped files: `promtool check rules`,
 * `promtool test rules` (the unit tests for every alert), `promtool check config`, and
 * `amtool check-config` for the Alertmanager example. Debian's `prometheus` and
 * `prometheus-alertmanager` packages provide the binaries. Without them the tests are skipped,
 * except under CI=true, where a missing binary fails the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const collectorDir = fileURLToPath(new URL('..', import.meta.url));
const inCi = process.env.CI === 'true';

function available(binary: string): boolean {
  return spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
}

function run(binary: string, args: string[], cwd = collectorDir) {
  const result = spawnSync(binary, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Registers `body` when `binary` is on PATH; otherwise a skip, or under CI a failing test. */
function withBinary(binary: string, debianPackage: string, body: () => void): void {
  if (available(binary)) {
    body();
    return;
  }
  const message = `${binary} is not on PATH: install Debian's ${debianPackage} package (apt-get update && apt-get install -y ${debianPackage})`;
  if (inCi) {
    it(`${binary} is installed (required under CI=true)`, () => {
      expect.fail(message);
    });
  } else {
    console.warn(`[collector] skipping ${binary} checks: ${message}`);
    it.skip(`${binary} checks — skipped: ${message}`, () => {});
  }
}

/** Runs `body` with a temporary directory that is removed afterwards. */
function inScratchDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-promtool-'));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('promtool', () => {
  withBinary('promtool', 'prometheus', () => {
    it('accepts the alert rules', () => {
      const { status, output } = run('promtool', ['check', 'rules', 'prometheus/rules/tollgate-alerts.yml']);
      expect(output).toContain('SUCCESS: 8 rules found');
      expect(status, output).toBe(0);
    });

    it('passes the unit tests for every alert', () => {
      const { status, output } = run('promtool', [
        'test',
        'rules',
        'prometheus/tests/tollgate-alerts-test.yml',
      ]);
      expect(output).toContain('SUCCESS');
      expect(status, output).toBe(0);
    });

    it('fails the unit tests when the 80 % threshold moves', () => {
      // Guards the guard: the unit tests must notice a rule that alerts at the wrong level.
      const rules = readFileSync(`${collectorDir}/prometheus/rules/tollgate-alerts.yml`, 'utf8');
      const moved = rules.replace(') >= 0.8\n', ') >= 0.9\n');
      expect(moved).not.toBe(rules);
      const tests = readFileSync(`${collectorDir}/prometheus/tests/tollgate-alerts-test.yml`, 'utf8');
      const { status, output } = inScratchDir((dir) => {
        writeFileSync(join(dir, 'tollgate-alerts.yml'), moved);
        writeFileSync(
          join(dir, 'tests.yml'),
          tests.replace('../rules/tollgate-alerts.yml', 'tollgate-alerts.yml'),
        );
        return run('promtool', ['test', 'rules', 'tests.yml'], dir);
      });
      expect(output).toContain('TollgateBudgetNearLimit');
      expect(status).not.toBe(0);
    });

    it('accepts prometheus.yml, finding the rule files where compose mounts them', () => {
      // compose.yaml mounts ./prometheus at /etc/prometheus; point the glob at this checkout.
      const config = readFileSync(`${collectorDir}/prometheus/prometheus.yml`, 'utf8').replace(
        '/etc/prometheus/rules/',
        `${collectorDir}/prometheus/rules/`,
      );
      const { status, output } = inScratchDir((dir) => {
        writeFileSync(join(dir, 'prometheus.yml'), config);
        return run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
      });
      expect(output).toContain('SUCCESS: 1 rule files found');
      expect(status, output).toBe(0);
    });
  });
});

describe('amtool', () => {
  withBinary('amtool', 'prometheus-alertmanager', () => {
    it('accepts the Alertmanager example', () => {
      const { status, output } = run('amtool', ['check-config', 'alertmanager/alertmanager.yml']);
      expect(output).toContain('SUCCESS');
      expect(status, output).toBe(0);
    });
  });
});
