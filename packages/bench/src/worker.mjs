// The parent's handle on one forked sdk-worker.mjs process: requests by id, results by message.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export class Worker {
  constructor(variant, env) {
    this.variant = variant;
    this.pending = new Map();
    this.sequence = 0;
    this.child = fork(join(here, 'sdk-worker.mjs'), [], {
      env: { ...process.env, ...env, BENCH_VARIANT: variant },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`${variant} worker exited with ${code}`)));
      this.child.on('message', (message) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'result') {
          const waiter = this.pending.get(message.id);
          this.pending.delete(message.id);
          if (message.error) waiter?.reject(new Error(`${variant}: ${message.error}`));
          else waiter?.resolve(message.result);
        } else if (message.type === 'closed') this.closed?.();
      });
    });
  }

  run(type, args) {
    const id = ++this.sequence;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...args, type, id });
    });
  }

  async close() {
    const closed = new Promise((resolve) => {
      this.closed = resolve;
      this.child.once('exit', resolve);
    });
    this.child.send({ type: 'close' });
    await closed;
  }
}
