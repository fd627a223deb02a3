// A server binary (Prometheus, Alertmanager) started on a free loopback port with a temporary
// directory, and stopped with that directory removed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The first of `names` that runs with `--version`, or undefined. */
export function findBinary(...names) {
  return names.find((name) => spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0);
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

/**
 * Starts `binary` with the arguments `args(port, dir)` builds, after `prepare(dir)` wrote its
 * files, and waits until `GET /-/ready` answers. Resolves to `{ url, stop, log }`; rejects with
 * the process's log when it does not become ready in time.
 */
export async function startLoopbackDaemon({ binary, prefix, prepare, args, readyTimeoutMillis = 20_000 }) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await prepare?.(dir);
  // The port is free when picked but could be taken before the daemon binds it: try again then.
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(binary, args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
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
      if (ready) return { url, stop, log: () => log };
      await sleep(100);
    }
    lastError = new Error(`${binary} did not become ready on ${url}:\n${log}`);
    if (running) {
      child.kill('SIGKILL');
      await exited;
    }
    if (!/address already in use/.test(log)) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}
