// A real Prometheus (the `prometheus` binary from Debian's package) on a free loopback port,
// scraping one target every second and evaluating alert rules every second.
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { findBinary, startLoopbackDaemon } from './loopback-daemon.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const SHIPPED_RULES = new URL('../../collector/prometheus/rules/tollgate-alerts.yml', import.meta.url);

/** Whether a `prometheus` binary is on PATH. */
export function prometheusAvailable() {
  return findBinary('prometheus') !== undefined;
}

/**
 * Copies rule files into `dir` with every `for:` set to `forDuration`. The expressions, labels
 * and annotations stay the shipped ones; only the wait before pending turns into firing is
 * shortened, so a test does not sit out the production `for: 2m`.
 */
export async function rulesWithFor(sourceFiles, dir, forDuration = '0s') {
  const written = [];
  for (const source of sourceFiles) {
    const document = parse(await readFile(source, 'utf8'));
    for (const group of document.groups)
      for (const rule of group.rules) if (rule.alert && rule.for !== undefined) rule.for = forDuration;
    const target = join(dir, basename(typeof source === 'string' ? source : source.pathname));
    await writeFile(target, stringify(document));
    written.push(target);
  }
  return written;
}

/**
 * Starts Prometheus with a temporary config and data directory; `stop()` ends the process and
 * removes both. With `alertmanagerUrl`, firing alerts are sent there. Rejects (with
 * Prometheus's log) when it does not become ready in time.
 */
export async function startPrometheus({ scrapeTarget, ruleFiles = [], alertmanagerUrl, readyTimeoutMillis }) {
  const { url, stop, log } = await startLoopbackDaemon({
    binary: 'prometheus',
    prefix: 'tollgate-prometheus-',
    readyTimeoutMillis,
    prepare: (dir) =>
      writeFile(
        join(dir, 'prometheus.yml'),
        stringify({
          global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
          rule_files: ruleFiles,
          ...(alertmanagerUrl
            ? {
                alerting: {
                  alertmanagers: [{ static_configs: [{ targets: [new URL(alertmanagerUrl).host] }] }],
                },
              }
            : {}),
          scrape_configs: [{ job_name: 'tollgate-example', static_configs: [{ targets: [scrapeTarget] }] }],
        }),
      ),
    args: (port, dir) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ],
  });
  return prometheusClient(url, stop, log);
}

function prometheusClient(url, stop, log) {
  const api = async (path) => {
    const response = await fetch(`${url}${path}`);
    const body = await response.json();
    if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
    return body.data;
  };
  return {
    url,
    log,
    stop,
    /** Active alerts (pending and firing), as /api/v1/alerts returns them. */
    async alerts() {
      return (await api('/api/v1/alerts')).alerts;
    },
    /** An instant query's result vector. */
    async query(promql) {
      return (await api(`/api/v1/query?query=${encodeURIComponent(promql)}`)).result;
    },
    /** Polls /api/v1/alerts until one alert matches, or rejects after `timeoutMillis`. */
    async waitForAlert(matches, timeoutMillis = 30_000) {
      const deadline = Date.now() + timeoutMillis;
      for (;;) {
        const found = (await this.alerts()).find(matches);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching alert within ${timeoutMillis} ms`);
        await sleep(250);
      }
    },
  };
}
