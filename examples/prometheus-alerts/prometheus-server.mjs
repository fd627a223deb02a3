// A real Prometheus (the `prometheus` binary from Debian's package) on a free loopback port,
// scraping one target every second and evaluating alert rules every second.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse, stringify } from 'yaml';

export const SHIPPED_RULES = new URL('../../collector/prometheus/rules/tollgate-alerts.yml', import.meta.url);

/** Whether a `prometheus` binary is on PATH. */
export function prometheusAvailable() {
  return spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
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

async function freeLoopbackPort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts Prometheus with a temporary config and data directory; `stop()` ends the process and
 * removes both. Rejects (with Prometheus's log) when it does not become ready in time.
 */
export async function startPrometheus({ scrapeTarget, ruleFiles = [], readyTimeoutMillis = 20_000 }) {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(
    configFile,
    stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: ruleFiles,
      scrape_configs: [{ job_name: 'tollgate-example', static_configs: [{ targets: [scrapeTarget] }] }],
    }),
  );

  // The port is free when picked but could be taken before Prometheus binds it: try again then.
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout.on('data', (chunk) => {
      log += chunk;
    });
    child.stderr.on('data', (chunk) => {
      log += chunk;
    });
    let running = true;
    const exited = new Promise((resolve) =>
      child.once('exit', () => {
        running = false;
        resolve();
      }),
    );

    const stop = async () => {
      if (running) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    };

    const deadline = Date.now() + readyTimeoutMillis;
    while (running && Date.now() < deadline) {
      const ready = await fetch(`${url}/-/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return prometheusClient(url, stop, () => log);
      await sleep(100);
    }
    lastError = new Error(`prometheus did not become ready on ${url}:\n${log}`);
    if (running) {
      child.kill('SIGKILL');
      await exited;
    }
    if (!/address already in use/.test(log)) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
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
