import type { GuardConfig } from '@tollgate/core';
import Bottleneck from 'bottleneck';
import { Redis as IORedis } from 'ioredis';
import type { RedisConnectionOptions } from '../connection/redis-connection-options';
import {
  closeClient,
  duplicateBounded,
  keyPrefixOf,
  positiveMillis,
  resolveClient,
} from '../internal/redis-clients';
import { StoreAvailability } from '../internal/store-availability';

/** The guard's `limiter.datastore`: shared rate-limit buckets. */
export type RedisLimiterDatastore = NonNullable<NonNullable<GuardConfig['limiter']>['datastore']>;

/** Options of `createRedisLimiterDatastore()`. */
export interface RedisLimiterOptions extends RedisConnectionOptions {
  /**
   * bottleneck's heartbeat, which is the refill tick: how late a queued call may learn that
   * capacity came back. Redis load is one script per bucket per process per beat.
   * @default 250
   */
  heartbeatIntervalMillis?: number;
  /**
   * A call's concurrency slot is freed after this long even if its process crashed while
   * holding it. Keep it at least the guard's `leaseMillis`.
   * @default 600_000 (10 minutes)
   */
  jobExpirationMillis?: number;
  /** An idle bucket's keys expire after max(this, its full refill time, `jobExpirationMillis`). @default 60_000 */
  keyTtlMillis?: number;
}

/** bottleneck's own recovery matches these messages exactly; Redis 7 prefixes script errors with `ERR `. */
const PREFIXED_RECOVERABLE = /^ERR (SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT)$/;

type ScriptCallback = (error: Error | null, replies: unknown) => void;

/**
 * Creates the datastore that shares rate-limit buckets (RPM, TPM, concurrency) between
 * processes through bottleneck's ioredis clustering. Pass it as the guard's `limiter.datastore`.
 *
 * @example
 * ```ts
 * const guard = createGuard({
 *   rateLimits: [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 500 }],
 *   limiter: { datastore: createRedisLimiterDatastore({ url: process.env.REDIS_URL }) },
 * });
 * ```
 */
export function createRedisLimiterDatastore(options: RedisLimiterOptions = {}): RedisLimiterDatastore {
  const keyPrefix = keyPrefixOf(options);
  const timeout = positiveMillis(options.commandTimeoutMillis, 'commandTimeoutMillis', 1000);
  const heartbeat = positiveMillis(options.heartbeatIntervalMillis, 'heartbeatIntervalMillis', 250);
  const jobExpiration = positiveMillis(options.jobExpirationMillis, 'jobExpirationMillis', 600_000);
  const keyTtl = positiveMillis(options.keyTtlMillis, 'keyTtlMillis', 60_000);
  const base = resolveClient(options);
  // bottleneck gets clients of its own that never queue a command while disconnected and
  // never wait longer than the bound: a call fails over to the policy instead of hanging.
  const client = duplicateBounded(base.client, timeout);
  const store = new StoreAvailability(
    client,
    timeout,
    options.onUnavailable ?? 'fail-closed',
    options.onEvent,
  );
  const connection = new Bottleneck.IORedisConnection({
    client,
    Redis: IORedis,
  } as Bottleneck.IORedisConnectionOptions);
  const tracker = new ScriptTracker(timeout);
  wrapScripts(connection, tracker, () => store.succeeded('rate-limit'));
  connection.on('error', () => {});

  let connectedOnce = client.status === 'ready';
  client.once('ready', () => {
    connectedOnce = true;
  });
  let closed = false;
  return {
    datastore: 'ioredis',
    connection,
    idPrefix: `${keyPrefix}:limiter:`,
    heartbeatIntervalMillis: heartbeat,
    jobExpirationMillis: jobExpiration,
    keyTtlMillis: keyTtl,
    commandTimeoutMillis: timeout,
    // Before the first connection, calls wait for it (bounded by the stall timeout); after
    // it, a lost connection fails calls at once instead of queueing them.
    isAvailable: () => (store.isConnected() && tracker.responsive()) || !connectedOnce,
    onStoreFailure: (error, limiterKey) => {
      const failure = store.failure('rate-limit', error, limiterKey, tracker.failingSinceMs());
      return store.policy === 'fail-open' ? undefined : failure;
    },
    onLimiterRecreated: (limiterKey, reason) =>
      store.emit({ type: 'limiter-recreated', timestampMs: Date.now(), limiterKey, reason }),
    async close() {
      if (closed) return;
      closed = true;
      await connection.disconnect(false);
      if (base.owned) await closeClient(base.client, timeout);
    },
  };
}

/** Scripts bottleneck has sent and not yet heard back from. */
class ScriptTracker {
  private readonly outstanding = new Map<number, number>();
  private sequence = 0;
  private lastFailure: { startedAtMs: number; endedAtMs: number } | undefined;

  constructor(private readonly timeoutMillis: number) {}

  start(): number {
    const id = ++this.sequence;
    this.outstanding.set(id, Date.now());
    return id;
  }

  end(id: number, failed = false): void {
    const startedAtMs = this.outstanding.get(id);
    this.outstanding.delete(id);
    if (failed && startedAtMs !== undefined) this.lastFailure = { startedAtMs, endedAtMs: Date.now() };
  }

  /**
   * When the failure being reported began: the start of the oldest unanswered script, or of
   * the script that just failed (a timeout is reported only once the bound has passed).
   */
  failingSinceMs(): number {
    const nowMs = Date.now();
    let since = nowMs;
    const oldest = this.outstanding.values().next();
    if (oldest.done !== true) since = Math.min(since, oldest.value);
    const last = this.lastFailure;
    if (last && nowMs - last.endedAtMs <= this.timeoutMillis) since = Math.min(since, last.startedAtMs);
    return since;
  }

  /** False when a script has waited longer than the bound: Redis is connected but not answering. */
  responsive(): boolean {
    const oldest = this.outstanding.values().next();
    return oldest.done === true || Date.now() - oldest.value <= this.timeoutMillis;
  }
}

/**
 * Wraps every bottleneck script call to track what is outstanding and to restore
 * bottleneck's own recovery: it re-creates a limiter's settings or re-registers its client
 * when a script answers exactly `SETTINGS_KEY_NOT_FOUND` or `UNKNOWN_CLIENT` (keys expired
 * while idle, Redis restarted empty). Redis 7 reports them as `ERR SETTINGS_KEY_NOT_FOUND`,
 * which bottleneck does not recognise, so every later call would fail. Stripping the
 * prefix lets it recover by itself.
 */
function wrapScripts(
  connection: Bottleneck.IORedisConnection,
  tracker: ScriptTracker,
  onAnswer: () => void,
): void {
  const internals = connection as unknown as { __scriptFn__(name: string): (...args: unknown[]) => unknown };
  const original = internals.__scriptFn__.bind(connection);
  internals.__scriptFn__ = (name: string) => {
    const run = original(name);
    return (...args: unknown[]) => {
      const callback = args.pop() as ScriptCallback;
      const id = tracker.start();
      return run(...args, (error: Error | null, replies: unknown) => {
        tracker.end(id, error !== null && error !== undefined);
        if (!error) onAnswer();
        if (error && PREFIXED_RECOVERABLE.test(error.message)) error.message = error.message.slice(4);
        callback(error, replies);
      });
    };
  };
}
