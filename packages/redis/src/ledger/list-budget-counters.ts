import type { BudgetUnit, LeaseExpiryPolicy, ScopeValues } from '@tollgate/core';
import { parseCounterKey, TollgateConfigError, toDisplayUnits } from '@tollgate/core';
import type { Cluster, Redis } from 'ioredis';
import {
  checkTarget,
  positiveOption,
  readKeyPrefix,
  readLeaseExpiry,
} from '../connection/read-redis-options';
import type { RedisConnectionOptions } from '../connection/redis-connection-options';
import { LEDGER_SCRIPTS } from '../internal/ledger-scripts';
import { closeClient, resolveClient } from '../internal/redis-clients';

/** Options of `listBudgetCounters()`. */
export interface ListBudgetCountersOptions
  extends Pick<RedisConnectionOptions, 'url' | 'client' | 'keyPrefix'> {
  /**
   * The guards' `leaseExpiry`: leases past their deadline but not yet collected are shown as
   * ended under it (charged, or released). @default 'charge-reserved'
   */
  leaseExpiry?: LeaseExpiryPolicy;
  /** Upper bound on the whole read, connecting included. @default 5000 */
  timeoutMillis?: number;
  /** Also list counters of calendar windows that have ended but are still kept for late settlements. @default false */
  includeEnded?: boolean;
}

/** One budget instance's counter in one window, in the budget's unit (USD figures are estimates). */
export interface BudgetCounterState {
  /** The ledger's counter key (`budgetId|unit|dimension=value,…|windowStart`). */
  key: string;
  budgetId: string;
  unit: BudgetUnit;
  scope: ScopeValues;
  window: { kind: 'calendar'; startMs: number; endMs: number } | { kind: 'rolling'; lengthMs: number };
  limit: number;
  spent: number;
  reserved: number;
  /** End of the calendar window, or when the oldest rolling spend leaves the window. */
  resetAtMs: number;
}

/** What `listBudgetCounters()` found, read at one Redis server time. */
export interface BudgetCounterListing {
  /** The Redis server clock when the counters were read (epoch ms). */
  nowMs: number;
  counters: BudgetCounterState[];
}

/** Counters read per script run: bounds the time one read holds the server. */
const BATCH = 200;

/**
 * Reads every budget counter under a key prefix, changing nothing: for dashboards and the
 * `tollgate status` command. Each counter is read with the ledger's own `peek` script, so
 * rolling windows drop spend that left them and overdue leases count as the next reservation
 * will find them. Rejects with an Error naming the cause when Redis cannot be read in time.
 */
export async function listBudgetCounters(
  options: ListBudgetCountersOptions = {},
): Promise<BudgetCounterListing> {
  checkTarget(options);
  const prefix = readKeyPrefix(options);
  const policy = readLeaseExpiry(options.leaseExpiry);
  const timeout = positiveOption(options.timeoutMillis, 'timeoutMillis', 5000);
  if (options.includeEnded !== undefined && typeof options.includeEnded !== 'boolean') {
    throw new TollgateConfigError('includeEnded', 'must be true or false', options.includeEnded);
  }
  const { client, owned } = resolveClient(options);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeout} ms`)), timeout);
  });
  // ioredis reports a refused connection only as "max retries"; the socket error says why.
  let connectError: Error | undefined;
  const onError = (error: Error) => {
    connectError = error;
  };
  client.on('error', onError);
  const reading = read(client, prefix, policy, options.includeEnded ?? false);
  reading.catch(() => {}); // a late failure after the deadline is not an unhandled rejection
  try {
    return await Promise.race([reading, late]);
  } catch (error) {
    if (connectError && client.status !== 'ready') {
      throw new Error(`Cannot connect to Redis: ${connectError.message}`);
    }
    throw error;
  } finally {
    client.off('error', onError);
    clearTimeout(timer);
    if (owned) await closeClient(client, 1000);
  }
}

async function read(
  client: Redis | Cluster,
  prefix: string,
  policy: LeaseExpiryPolicy,
  includeEnded: boolean,
): Promise<BudgetCounterListing> {
  const base = `{${prefix}}:`;
  const counterPrefix = `${base}c:`;
  const keys = await scanKeys(client, `${escapeGlob(counterPrefix)}*`);
  const counters: BudgetCounterState[] = [];
  let nowMs = Date.now();
  for (let start = 0; start < keys.length; start += BATCH) {
    const batch = keys.slice(start, start + BATCH);
    const pipeline = client.pipeline();
    for (const key of batch) pipeline.hmget(key, 'kind', 'len', 'end', 'limit');
    const fields = ((await pipeline.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      return value as (string | null)[];
    });
    const args: string[] = [];
    const lines: { key: string; kind: 'c' | 'r'; period: number }[] = [];
    batch.forEach((fullKey, index) => {
      const [kind, len, end, limit] = fields[index] ?? [];
      if (kind !== 'c' && kind !== 'r') return; // gone since the scan, or not a counter
      const period = Number(kind === 'r' ? len : end);
      const key = fullKey.slice(counterPrefix.length);
      lines.push({ key, kind, period });
      args.push(key, limit ?? '0', kind, String(period));
    });
    if (lines.length === 0) continue;
    const reply = (await evalPeek(client, base, policy, [String(lines.length), ...args])) as (
      | string
      | string[]
    )[];
    nowMs = Number(reply[0]);
    lines.forEach((line, index) => {
      const [spent, reserved, limit, resetAt] = (reply[index + 1] as string[]).map(Number) as [
        number,
        number,
        number,
        number,
      ];
      const parsed = parseCounterKey(line.key);
      const window: BudgetCounterState['window'] =
        line.kind === 'r'
          ? { kind: 'rolling', lengthMs: line.period }
          : { kind: 'calendar', startMs: parsed.windowStartMs ?? 0, endMs: line.period };
      counters.push({
        key: line.key,
        budgetId: parsed.budgetId,
        unit: parsed.unit,
        scope: parsed.scope,
        window,
        limit: toDisplayUnits(parsed.unit, limit),
        spent: toDisplayUnits(parsed.unit, spent),
        reserved: toDisplayUnits(parsed.unit, reserved),
        resetAtMs: resetAt,
      });
    });
  }
  return {
    nowMs,
    counters: counters.filter(
      (counter) => includeEnded || counter.window.kind === 'rolling' || counter.window.endMs > nowMs,
    ),
  };
}

/** Every key matching `pattern`; on a Cluster, from every master (one prefix lives in one slot). */
async function scanKeys(client: Redis | Cluster, pattern: string): Promise<string[]> {
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      for (const key of keys) found.add(key);
      cursor = next;
    } while (cursor !== '0');
  }
  return [...found].sort();
}

/** The peek script with the ledger's static arguments; its grace and outcome TTL are unused by a read. */
async function evalPeek(
  client: Redis | Cluster,
  base: string,
  policy: LeaseExpiryPolicy,
  args: readonly string[],
): Promise<unknown> {
  const keys = [`${base}leases`];
  const all = [base, '0', '0', '0', policy, ...args];
  const script = LEDGER_SCRIPTS.peek;
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...all);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
      return client.eval(script.source, keys.length, ...keys, ...all);
    }
    throw error;
  }
}

/** Escapes Redis glob characters, so a prefix is matched literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
