import type {
  BudgetLedger,
  ExpiredReservation,
  LeaseExpiryPolicy,
  LedgerLine,
  LineState,
  ReservationStatus,
  ReserveRequest,
  ReserveResult,
  SettleResult,
  ThresholdCrossing,
} from '@tollgate/core';
import type { Cluster, Redis } from 'ioredis';
import { GuardStoreUnavailableError } from '../errors/guard-store-unavailable-error';
import { LEDGER_SCRIPTS, type LuaScript } from '../internal/ledger-scripts';
import { closeClient, resolveLedgerClient } from '../internal/redis-clients';
import { StoreAvailability, withDeadline } from '../internal/store-availability';
import { TIME_SHIFT } from '../internal/time-shift';
import { type RedisLedgerOptions, readLedgerOptions } from './redis-ledger-options';
import { type PendingSettlement, type RetryAnswer, SettlementRetryQueue } from './settlement-retry-queue';

type Reply = string | Reply[];

/**
 * A `BudgetLedger` in Redis, shared by every process that uses the same key prefix.
 * Every operation is one Lua script — one round trip — using the Redis server clock.
 * Create it with `createRedisLedger()`.
 */
export class RedisLedger implements BudgetLedger {
  readonly keyPrefix: string;
  readonly leaseExpiry: LeaseExpiryPolicy;
  private readonly client: Redis | Cluster;
  private readonly owned: boolean;
  private readonly store: StoreAvailability;
  private readonly staticKeys: string[];
  private readonly staticArgs: string[];
  private readonly batchSize: number;
  private readonly syncTimer: NodeJS.Timeout;
  private readonly retries: SettlementRetryQueue;
  private readonly onReady = () => {
    void this.syncClock();
    void this.retries.flush();
  };
  /** Redis `TIME` minus `Date.now()`, measured at the middle of a round trip. */
  private offsetMs = 0;
  private shiftMs = 0;
  private closed = false;

  constructor(options: RedisLedgerOptions = {}) {
    const settings = readLedgerOptions(options);
    this.keyPrefix = settings.keyPrefix;
    const { leaseExpiry, onUnavailable, commandTimeoutMillis: timeout } = settings;
    const {
      keyGraceMillis: grace,
      outcomeTtlMillis: outcomeTtl,
      clockSyncIntervalMillis: syncEvery,
    } = settings;
    this.batchSize = settings.expiredBatchSize;
    const maxPending = settings.maxPendingSettlements;
    const { client, owned } = resolveLedgerClient(options);
    this.client = client;
    this.owned = owned;
    this.store = new StoreAvailability(
      client,
      timeout,
      onUnavailable,
      settings.onEvent,
      () => void this.retries.flush(),
    );
    this.retries = new SettlementRetryQueue(
      maxPending,
      Math.min(timeout, 1000),
      () => this.store.isConnected(),
      (entry) => this.retry(entry),
      (event) => this.store.emit(event),
    );
    const base = `{${this.keyPrefix}}:`;
    this.staticKeys = [`${base}leases`];
    this.leaseExpiry = leaseExpiry;
    this.staticArgs = [base, '0', String(Math.ceil(grace)), String(Math.ceil(outcomeTtl)), leaseExpiry];
    client.on('ready', this.onReady);
    if (client.status === 'ready') void this.syncClock();
    this.syncTimer = setInterval(() => void this.syncClock(), syncEvery);
    this.syncTimer.unref();
  }

  /** The Redis server clock as estimated from this process (epoch ms). */
  now(): number {
    return Date.now() + this.offsetMs + this.shiftMs;
  }

  async peek(lines: readonly LedgerLine[]): Promise<LineState[]> {
    const args = [String(lines.length)];
    for (const line of lines) args.push(line.key, int(line.limit), ...windowArgs(line));
    return this.store.run(
      'peek',
      async () => {
        const reply = (await this.eval(LEDGER_SCRIPTS.peek, args)) as Reply[];
        this.observe(reply[0] as string);
        return lines.map((line, index) => toState(line.key, reply[index + 1] as string[]));
      },
      () => lines.map((line) => emptyState(line, this.now())),
    );
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const lease = Math.ceil(request.leaseMillis);
    if (!(lease > 0)) throw new RangeError(`leaseMillis must be positive, got ${request.leaseMillis}`);
    const args = [request.reservationId, String(lease), String(request.lines.length)];
    const ceilings = request.unlessUsedAbove;
    request.lines.forEach((line, index) => {
      if (!Number.isSafeInteger(line.amount) || line.amount < 0) {
        throw new RangeError(`amount ${line.amount} for ${line.key} is not a non-negative integer`);
      }
      const aboveArg = ratioArg(ceilings?.[index]);
      args.push(
        line.key,
        int(line.limit),
        int(line.amount),
        ...windowArgs(line),
        line.thresholds.join(','),
        aboveArg,
      );
    });
    const reply = await this.store.run(
      'reserve',
      () => this.eval(LEDGER_SCRIPTS.reserve, args) as Promise<Reply[]>,
      () => undefined,
      // Sent but unanswered in time: the caller is told it failed, so the reservation
      // must not stay if it did land. The release queues behind the reserve on the
      // same connection, and is harmless if the reserve never ran; if it cannot be sent,
      // it is retried when Redis answers again.
      () =>
        void this.finishCommand(request.reservationId, 'released', []).catch(() =>
          this.retries.add({
            reservationId: request.reservationId,
            mode: 'released',
            amounts: [],
            firstFailedAtMs: Date.now(),
          }),
        ),
    );
    if (reply === undefined) {
      // Fail-open: admitted unmetered.
      return { ok: true, lines: request.lines.map((line) => emptyState(line, this.now())) };
    }
    const [status, serverNow] = reply as string[];
    if (status === 'used') throw new Error(`Reservation id "${request.reservationId}" was already used`);
    this.observe(serverNow!);
    if (status === 'above') {
      return {
        ok: false,
        reason: 'used-above',
        lines: request.lines.map((line, index) => toState(line.key, reply[index + 2] as string[])),
      };
    }
    if (status === 'full') {
      const failedLine = Number(reply[2]);
      return {
        ok: false,
        reason: 'no-room',
        failedLine,
        state: toState(request.lines[failedLine]!.key, reply[3] as string[]),
      };
    }
    return {
      ok: true,
      lines: request.lines.map((line, index) => toState(line.key, reply[index + 2] as string[])),
    };
  }

  async settle(reservationId: string, actualAmounts: readonly number[]): Promise<SettleResult> {
    for (const amount of actualAmounts) {
      if (!Number.isSafeInteger(amount) || amount < 0) {
        throw new RangeError(`settle(${reservationId}) amount ${amount} is not a non-negative integer`);
      }
    }
    return this.finish(reservationId, 'settled', actualAmounts);
  }

  async release(reservationId: string): Promise<SettleResult> {
    return this.finish(reservationId, 'released', []);
  }

  async exhausted(lines: readonly LedgerLine[]): Promise<ThresholdCrossing[]> {
    const args = [String(lines.length)];
    for (const line of lines)
      args.push(line.key, int(line.limit), ...windowArgs(line), line.thresholds.join(','));
    const reply = await this.store.run(
      'exhausted',
      () => this.eval(LEDGER_SCRIPTS.exhausted, args) as Promise<Reply[]>,
      () => undefined,
    );
    if (reply === undefined) return [];
    this.observe(reply[0] as string);
    // An empty Lua table arrives as an empty object, not an array.
    const crossed = reply[1];
    return Array.isArray(crossed) ? (crossed as string[][]).map(toCrossing) : [];
  }

  async collectExpired(): Promise<ExpiredReservation[]> {
    const reports = await this.store.run(
      'collect-expired',
      () => this.eval(LEDGER_SCRIPTS.collect, [String(this.batchSize)]) as Promise<string[]>,
      () => [] as string[],
    );
    return reports.map(parseExpired);
  }

  /**
   * Stops the clock sync, makes one last attempt at settlements still waiting for a retry
   * (reporting those left as `settlement-dropped`), and closes the client if Tollgate created it.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.syncTimer);
    this.client.off('ready', this.onReady);
    await this.retries.close();
    if (this.owned) await closeClient(this.client, this.store.timeoutMillis);
  }

  /** Moves the scripts' clock forward; tests use it to let leases and windows pass. */
  [TIME_SHIFT](millis: number): void {
    this.shiftMs += millis;
    this.staticArgs[1] = String(this.shiftMs);
  }

  private async finish(
    reservationId: string,
    mode: 'settled' | 'released',
    amounts: readonly number[],
  ): Promise<SettleResult> {
    const operation = mode === 'settled' ? 'settle' : 'release';
    // Not delivered (or not known to be): kept and sent again once Redis answers.
    const retryLater = () => this.retries.add({ reservationId, mode, amounts, firstFailedAtMs: Date.now() });
    let reply: Reply[] | undefined;
    try {
      reply = await this.store.run(
        operation,
        () => this.finishCommand(reservationId, mode, amounts),
        () => undefined,
      );
    } catch (error) {
      if (GuardStoreUnavailableError.isInstance(error)) retryLater();
      throw error;
    }
    if (reply === undefined) {
      retryLater();
      return { status: 'unknown', applied: false, crossed: [], lines: [] };
    }
    const [outcome, serverNow, status] = reply as string[];
    this.observe(serverNow!);
    if (outcome === 'gone') {
      return { status: status as ReservationStatus, applied: false, crossed: [], lines: [] };
    }
    const crossed = (reply[3] as string[][]).map(toCrossing);
    const states = reply[4] as string[][];
    return {
      status: mode,
      applied: true,
      crossed,
      lines: states.map((state) => toState(state[4]!, state)),
    };
  }

  /** Sends a pending settlement again, within the bound; rejects if Redis still does not answer. */
  private async retry(entry: PendingSettlement): Promise<RetryAnswer> {
    const operation = entry.mode === 'settled' ? 'settle' : 'release';
    const reply = await withDeadline(
      this.finishCommand(entry.reservationId, entry.mode, entry.amounts),
      Date.now() + this.store.timeoutMillis,
    );
    this.store.succeeded(operation);
    const [outcome, serverNow, status] = reply as string[];
    this.observe(serverNow!);
    return outcome === 'gone'
      ? { applied: false, status: status as ReservationStatus }
      : { applied: true, status: entry.mode };
  }

  private finishCommand(
    reservationId: string,
    mode: 'settled' | 'released',
    amounts: readonly number[],
  ): Promise<Reply[]> {
    const args = [reservationId, mode];
    if (mode === 'settled') args.push(String(amounts.length), ...amounts.map(int));
    return this.eval(LEDGER_SCRIPTS.finish, args) as Promise<Reply[]>;
  }

  /** EVALSHA, falling back to EVAL (which also caches the script) after a restart or failover. */
  private async eval(script: LuaScript, args: readonly string[]): Promise<unknown> {
    const keys = this.staticKeys;
    const all = [...this.staticArgs, ...args];
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...all);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return this.client.eval(script.source, keys.length, ...keys, ...all);
      }
      throw error;
    }
  }

  /** Measures the offset to Redis `TIME`; keeps the previous one if Redis does not answer. */
  private async syncClock(): Promise<void> {
    if (this.closed || !this.store.isConnected()) return;
    try {
      const sentMs = Date.now();
      const [seconds, micros] = (await withDeadline(
        this.client.time(),
        Date.now() + this.store.timeoutMillis,
      )) as [string | number, string | number];
      const receivedMs = Date.now();
      const serverMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      this.offsetMs = serverMs - Math.round((sentMs + receivedMs) / 2);
    } catch {
      // The next sync, or the next script reply, corrects the offset.
    }
  }

  /**
   * Every script reports the server time it used; a reply much later than the local clock
   * predicts means the offset drifted (or Redis jumped), so it is measured again.
   */
  private observe(serverNow: string): void {
    const predicted = Date.now() + this.offsetMs + this.shiftMs;
    if (Math.abs(Number(serverNow) - predicted) > this.store.timeoutMillis) void this.syncClock();
  }
}

/**
 * Creates a Redis `BudgetLedger`: pass it as the guard's `ledger`.
 *
 * @example
 * ```ts
 * const guard = createGuard({
 *   budgets: [{ id: 'daily', limit: { usd: 25 }, window: 'day' }],
 *   ledger: createRedisLedger({ url: process.env.REDIS_URL }),
 * });
 * ```
 */
export function createRedisLedger(options: RedisLedgerOptions = {}): RedisLedger {
  return new RedisLedger(options);
}

function int(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`${value} is not a finite number`);
  return Math.round(value).toString();
}

/** A use ratio for the script: empty when it can never stop a reservation. */
function ratioArg(ratio: number | undefined): string {
  if (ratio === undefined || Number.isNaN(ratio) || ratio === Number.POSITIVE_INFINITY) return '';
  // Every use ratio is at least 0, so any negative ratio stops the reservation.
  if (ratio === Number.NEGATIVE_INFINITY) return '-1';
  // String() writes the shortest decimal that reads back as the same double, in Lua too.
  return String(ratio);
}

function windowArgs(line: LedgerLine): [string, string] {
  return line.window.kind === 'calendar' ? ['c', int(line.window.endMs)] : ['r', int(line.window.lengthMs)];
}

function toState(key: string, fields: readonly string[]): LineState {
  return {
    key,
    spent: Number(fields[0]),
    reserved: Number(fields[1]),
    limit: Number(fields[2]),
    resetAtMs: Number(fields[3]),
  };
}

function emptyState(line: LedgerLine, nowMs: number): LineState {
  return {
    key: line.key,
    limit: line.limit,
    spent: 0,
    reserved: 0,
    resetAtMs: line.window.kind === 'calendar' ? line.window.endMs : nowMs,
  };
}

function toCrossing(fields: readonly string[]): ThresholdCrossing {
  return {
    line: Number(fields[0]),
    key: fields[1]!,
    threshold: Number(fields[2]),
    spent: Number(fields[3]),
    limit: Number(fields[4]),
  };
}

function parseExpired(report: string): ExpiredReservation {
  const parsed = JSON.parse(report) as {
    id: string;
    policy: LeaseExpiryPolicy;
    keys: string[] | Record<string, never>;
    charged: string[] | Record<string, never>;
    crossed: string[][] | Record<string, never>;
  };
  // cjson encodes an empty Lua table as an object.
  const list = <T>(value: T[] | Record<string, never>): T[] => (Array.isArray(value) ? value : []);
  return {
    reservationId: parsed.id,
    policy: parsed.policy,
    charged: list(parsed.charged).map(Number),
    keys: list(parsed.keys),
    crossed: list(parsed.crossed).map(toCrossing),
  };
}
