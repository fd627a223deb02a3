import { diag } from '@opentelemetry/api';
import type { BucketIdentity, SharedLimiterStore } from '@tollgate/core';
import Bottleneck from 'bottleneck';
import { type Cluster, Redis as IORedis, type Redis } from 'ioredis';
import { closeClient, duplicateBounded, resolveClient } from '../internal/redis-clients';
import { StoreAvailability } from '../internal/store-availability';
import { type RedisLimiterOptions, readLimiterOptions } from './redis-limiter-options';

/** The guard's `limiter.datastore`: rate-limit buckets shared through Redis. */
export type RedisLimiterDatastore = SharedLimiterStore;

/** bottleneck's own recovery matches these messages exactly; Redis 7 prefixes script errors with `ERR `. */
const PREFIXED_RECOVERABLE = /^ERR (SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT)$/;

/** bottleneck's Redis scripts raise these when a bucket's keys or client entry vanished (restart, expiry). */
const LOST_STATE = /SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT/;

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
  const {
    keyPrefix,
    commandTimeoutMillis: timeout,
    onUnavailable,
    onEvent,
    heartbeatIntervalMillis: heartbeat,
    jobExpirationMillis: jobExpiration,
    keyTtlMillis: keyTtl,
  } = readLimiterOptions(options);
  const base = resolveClient(options);
  // bottleneck gets clients of its own that never queue a command while disconnected and
  // never wait longer than the bound: a call fails over to the policy instead of hanging.
  const client = duplicateBounded(base.client, timeout);
  const store = new StoreAvailability(client, timeout, onUnavailable, onEvent);
  const connection = new Bottleneck.IORedisConnection({
    client,
    Redis: IORedis,
  } as Bottleneck.IORedisConnectionOptions);
  const tracker = new ScriptTracker(timeout);
  wrapScripts(connection, tracker, () => store.succeeded('rate-limit'));
  unsubscribeReporting(connection, (error) =>
    // Nothing is lost: a subscription ends with its connection. Worth a line when debugging a shutdown.
    diag.debug(
      `tollgate: a rate-limit bucket could not unsubscribe from Redis while closing: ${error instanceof Error ? error.message : String(error)}`,
    ),
  );
  // Connection errors reach callers through the availability checks and the typed error, not here.
  connection.on('error', () => {});
  const capReservoir = defineCapReservoir(client);
  const idPrefix = `${keyPrefix}:limiter:`;
  let closed = false;
  return {
    shared: true,
    heartbeatIntervalMillis: heartbeat,
    // bottleneck's Redis scripts change the reservoir with `HINCRBY`, which fails for good once
    // the stored value has a fraction ("hash value is not an integer").
    wholePermits: true,
    jobExpirationMillis: jobExpiration,
    commandTimeoutMillis: timeout,
    createLimiter: (bucket, limiterOptions) =>
      new Bottleneck({
        ...limiterOptions,
        id: bucketId(idPrefix, bucket),
        datastore: 'ioredis',
        connection,
        // Other processes share these keys: never wipe them on start.
        clearDatastore: false,
        // Idle keys expire. A bucket rebuilt after that starts full, which is exact once it
        // has been idle for its full refill time; a running call's slot lasts until its job expires.
        timeout: Math.max(keyTtl, bucket.refillMillis, jobExpiration),
      } as Bottleneck.ConstructorOptions),
    // A connection that has never been ready is not available: calls wait for it only within
    // the bound (`whenAvailable`), then get the policy's answer — never an unbounded wait.
    isAvailable: () => store.isConnected() && tracker.responsive(),
    whenAvailable: (timeoutMillis) => store.waitForConnection(Math.min(timeoutMillis, timeout)),
    capReservoir: (limiter, ceiling) => capReservoir(limiter.id, ceiling),
    describeFailure: (failure, boundMillis) =>
      new Error(
        failure === 'not-connected'
          ? `not connected to Redis (waited up to ${boundMillis} ms)`
          : `Redis stopped answering (bound ${boundMillis} ms)`,
      ),
    isLostState: (error) => LOST_STATE.test(error instanceof Error ? error.message : String(error)),
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

/**
 * A bucket's bottleneck id: `${idPrefix}{${limiterKey}}:requests` (or `:tokens`). The braces
 * are a Redis Cluster hash tag, so each bucket's keys share a slot.
 */
function bucketId(idPrefix: string, bucket: BucketIdentity): string {
  return `${idPrefix}{${bucket.limiterKey.replace(/[{}]/g, encodeURIComponent)}}:${bucket.bucket}`;
}

/** Sets a bucket's reservoir to min(current, ceiling) after the refills due; see `SharedLimiterStore.capReservoir`. */
const CAP_RESERVOIR_SCRIPT = `
local settings = redis.call('hmget', KEYS[1], 'reservoir', 'reservoirIncreaseInterval',
  'reservoirIncreaseAmount', 'reservoirIncreaseMaximum', 'lastReservoirIncrease')
local reservoir = tonumber(settings[1])
if reservoir == nil then return nil end
local ceiling = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local interval = tonumber(settings[2])
local amount = tonumber(settings[3])
local maximum = tonumber(settings[4])
local last = tonumber(settings[5])
-- The refills bottleneck would add on its next tick, added the same way, so the cap applies to what the bucket holds now.
if interval ~= nil and amount ~= nil and last ~= nil and now >= last + interval then
  local intervals = math.floor((now - last) / interval)
  local increase = amount * intervals
  if maximum ~= nil then increase = math.min(increase, maximum - reservoir) end
  if increase > 0 then reservoir = reservoir + increase end
  redis.call('hset', KEYS[1], 'lastReservoirIncrease', last + intervals * interval)
end
if ceiling < reservoir then reservoir = ceiling end
redis.call('hset', KEYS[1], 'reservoir', reservoir)
return reservoir
`;

type CapReservoirCommand = (key: string, ceiling: number, nowMs: number) => Promise<number | null>;

/** The cap as one Lua script on the bucket's settings hash (bottleneck's key `b_<id>_settings`). */
function defineCapReservoir(
  client: Redis | Cluster,
): (limiterId: string, ceiling: number) => Promise<number | null> {
  client.defineCommand('tollgateCapReservoir', { numberOfKeys: 1, lua: CAP_RESERVOIR_SCRIPT });
  const command = (
    client as unknown as { tollgateCapReservoir: CapReservoirCommand }
  ).tollgateCapReservoir.bind(client);
  return (limiterId, ceiling) => {
    if (!Number.isSafeInteger(ceiling)) {
      // HINCRBY in bottleneck's scripts needs a whole reservoir.
      return Promise.reject(new TypeError(`a reservoir ceiling must be a whole number, got ${ceiling}`));
    }
    // bottleneck stamps its scripts with the client's clock, so this one does too.
    return command(`b_${limiterId}_settings`, ceiling, Date.now());
  };
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
