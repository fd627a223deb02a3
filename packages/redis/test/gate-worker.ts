import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BudgetConfig } from '@tollgate/core';
import type { MockProvider } from '@tollgate/mock-provider';

// Test support: a gate in another OS process (fixtures/gate-worker.cjs), which loads the BUILT
// packages and gates the real openai SDK against the mock provider.

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'gate-worker.cjs');

export interface CallResult {
  outcome: string;
  name?: string;
  message?: string;
  millis: number;
}

export interface StoreEventSummary {
  type: string;
  operation?: string;
  policy?: string;
  applied?: boolean;
  outageMillis?: number;
}

export interface WorkerReport {
  decisions: {
    type: string;
    timestampMs: number;
    waitMillis?: number;
    reservationId?: string;
    actualCostUsd?: number;
    applied?: boolean;
  }[];
  storeEvents: StoreEventSummary[];
}

/** How the worker reaches Redis: a URL, or the app's own Sentinel or Cluster client. */
export type WorkerConnection =
  | { redisUrl: string }
  | { sentinel: { sentinels: { host: string; port: number }[]; name: string } }
  | { cluster: { nodes: { host: string; port: number }[]; password: string } };

export interface WorkerConfig {
  keyPrefix: string;
  budgets?: BudgetConfig[];
  rateLimits?: unknown[];
  leaseMillis?: number;
  store?: Record<string, unknown>;
}

/** Every worker started and not yet killed by `killWorkers`. */
const running: Worker[] = [];

/** A forked gate process and its message channel. */
export class Worker {
  private readonly inbox = new Map<string, unknown[]>();
  private readonly waiting = new Map<string, (message: unknown) => void>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: { type: string }) => {
      const resolve = this.waiting.get(message.type);
      if (resolve) {
        this.waiting.delete(message.type);
        resolve(message);
      } else {
        this.inbox.set(message.type, [...(this.inbox.get(message.type) ?? []), message]);
      }
    });
  }

  static async start(
    connection: WorkerConnection,
    mock: MockProvider,
    config: WorkerConfig,
  ): Promise<Worker> {
    const child = fork(WORKER, [], {
      env: {
        ...process.env,
        TOLLGATE_WORKER_CONFIG: JSON.stringify({
          ...connection,
          openaiBaseUrl: mock.openaiBaseUrl,
          ...config,
          store: { keyPrefix: config.keyPrefix, ...config.store },
        }),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new Worker(child);
    running.push(worker);
    await worker.next('ready');
    return worker;
  }

  next<T>(type: string): Promise<T> {
    const queued = this.inbox.get(type);
    if (queued && queued.length > 0) return Promise.resolve(queued.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`worker exited (${code}) before "${type}"`));
      this.child.once('exit', onExit);
      // The exit listener lives only as long as the wait: one per pending reply, not one per call ever made.
      this.waiting.set(type, (message) => {
        this.child.off('exit', onExit);
        resolve(message as T);
      });
    });
  }

  /** One batch at a time per worker: the reply channel is keyed by message type. */
  async fire(count: number, concurrency: number, maxTokens = 20): Promise<CallResult[]> {
    this.child.send({ type: 'fire', count, concurrency, maxTokens });
    return (await this.next<{ results: CallResult[] }>('fired')).results;
  }

  async report(settleMillis = 50): Promise<WorkerReport> {
    this.child.send({ type: 'report', settleMillis });
    return this.next<WorkerReport>('report');
  }

  /** The store events so far, without waiting for settlements. */
  async storeEvents(): Promise<StoreEventSummary[]> {
    return (await this.report(0)).storeEvents;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'close' });
    await exited;
  }
}

/** Kills every worker still running (after each test: one that hangs must not outlive it). */
export function killWorkers(): void {
  for (const worker of running.splice(0)) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  }
}
