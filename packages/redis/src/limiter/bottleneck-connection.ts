import { diag } from '@opentelemetry/api';
import Bottleneck from 'bottleneck';
import { type Cluster, Redis as IORedis, type Redis } from 'ioredis';

/** bottleneck's own recovery matches these messages exactly; Redis 7 prefixes script errors with `ERR `. */
const PREFIXED_RECOVERABLE = /^ERR (SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT)$/;

/** bottleneck's Redis scripts raise these when a bucket's keys or client entry vanished (restart, expiry). */
const LOST_STATE = /SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT/;

type ScriptCallback = (error: Error | null, replies: unknown) => void;

/** A bucket's error means its keys or client entry are gone (expired, or Redis restarted empty). */
export function isLostState(error: unknown): boolean {
  return LOST_STATE.test(error instanceof Error ? error.message : String(error));
}

/**
 * bottleneck's ioredis connection over `client`, patched so that it recovers from lost keys on
 * Redis 7, tracks the scripts it has outstanding (`tracker`: is Redis answering?), and never
 * leaves an unhandled rejection behind when it closes during an outage.
 * @param onAnswer called on every script answer: the store is reachable.
 */
export function createBottleneckConnection(
  client: Redis | Cluster,
  timeoutMillis: number,
  onAnswer: () => void,
): { connection: Bottleneck.IORedisConnection; tracker: ScriptTracker } {
  const connection = new Bottleneck.IORedisConnection({
    client,
    Redis: IORedis,
  } as Bottleneck.IORedisConnectionOptions);
  const tracker = new ScriptTracker(timeoutMillis);
  wrapScripts(connection, tracker, onAnswer);
  unsubscribeReporting(connection, (error) =>
    // Nothing is lost: a subscription ends with its connection. Worth a line when debugging a shutdown.
    diag.debug(
      `tollgate: a rate-limit bucket could not unsubscribe from Redis while closing: ${error instanceof Error ? error.message : String(error)}`,
    ),
  );
  // Connection errors reach callers through the availability checks and the typed error, not here.
  connection.on('error', () => {});
  return { connection, tracker };
}

/**
 * bottleneck's `__removeLimiter__` unsubscribes from its channels in fire-and-forget async
 * callbacks: with the connection down ("Stream isn't writeable and enableOfflineQueue
 * options is false") each becomes an unhandled rejection, which kills a Node process without
 * a handler. The same steps, with every failure reported instead.
 */
function unsubscribeReporting(
  connection: Bottleneck.IORedisConnection,
  report: (error: unknown) => void,
): void {
  const internals = connection as unknown as {
    terminated: boolean;
    subscriber: { unsubscribe(channel: string): Promise<unknown> };
    limiters: Record<string, unknown>;
    __removeLimiter__(instance: { channel(): string; channel_client(): string }): unknown;
  };
  internals.__removeLimiter__ = (instance) => {
    const channels = [instance.channel(), instance.channel_client()];
    return Promise.all(
      channels.map(async (channel) => {
        try {
          if (!internals.terminated) await internals.subscriber.unsubscribe(channel);
        } catch (error) {
          report(error);
        } finally {
          delete internals.limiters[channel];
        }
      }),
    );
  };
}

/** Scripts bottleneck has sent and not yet heard back from. */
export class ScriptTracker {
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
