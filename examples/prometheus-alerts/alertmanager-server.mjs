// A real Alertmanager (Debian's `prometheus-alertmanager`, or upstream's `alertmanager`) on a
// free loopback port, loading the shipped configuration with its webhook pointed at a local
// receiver that records what Alertmanager delivers.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { findBinary, startLoopbackDaemon } from './loopback-daemon.mjs';

export const SHIPPED_ALERTMANAGER_CONFIG = new URL(
  '../../collector/alertmanager/alertmanager.yml',
  import.meta.url,
);

const binary = () => findBinary('alertmanager', 'prometheus-alertmanager');

/** Whether an Alertmanager binary is on PATH. */
export function alertmanagerAvailable() {
  return binary() !== undefined;
}

/** A loopback HTTP server that keeps every Alertmanager webhook payload it is sent. */
async function startWebhookReceiver() {
  const payloads = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      try {
        payloads.push(JSON.parse(body));
      } catch {
        // Not Alertmanager's JSON: nothing to keep.
      }
      response.end();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/alerts`,
    payloads,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Starts Alertmanager with the shipped routes, receivers and inhibit rules; only the webhook URL
 * (a local receiver) and the grouping waits (`groupWait`, so a test does not sit out 30 s)
 * change. `delivered(matches)` polls the receiver until an alert in a payload matches.
 */
export async function startAlertmanager({ groupWait = '1s' } = {}) {
  const receiver = await startWebhookReceiver();
  const config = parse(await readFile(SHIPPED_ALERTMANAGER_CONFIG, 'utf8'));
  for (const entry of config.receivers)
    for (const webhook of entry.webhook_configs ?? []) webhook.url = receiver.url;
  config.route.group_wait = groupWait;
  const daemon = await startLoopbackDaemon({
    binary: binary(),
    prefix: 'tollgate-alertmanager-',
    prepare: (dir) => writeFile(join(dir, 'alertmanager.yml'), stringify(config)),
    args: (port, dir) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // A single instance: no gossip port to bind.
      '--cluster.listen-address=',
    ],
  }).catch(async (error) => {
    await receiver.close();
    throw error;
  });
  return {
    url: daemon.url,
    payloads: receiver.payloads,
    log: daemon.log,
    async delivered(matches, timeoutMillis = 30_000) {
      const deadline = Date.now() + timeoutMillis;
      for (;;) {
        for (const payload of receiver.payloads) {
          const found = payload.alerts?.find(matches);
          if (found) return { payload, alert: found };
        }
        if (Date.now() > deadline) throw new Error(`no matching alert delivered within ${timeoutMillis} ms`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    async stop() {
      await daemon.stop();
      await receiver.close();
    },
  };
}
