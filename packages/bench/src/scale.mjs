// Scale: 1, 2, 4 … processes admitting at once through one redis-server, on one shared budget
// and one shared (non-binding) rate limit, with the CPU time of Redis and of the workers, so
// the report can name what limits the aggregate rate.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { fixed, median, table, thousands } from './stats.mjs';
import { Worker } from './worker.mjs';

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
function processCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: state is the first, utime the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1000;
}

/** Busy and total CPU time of the whole machine so far, in ticks, from /proc/stat. */
function machineTicks() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const ticks = values.slice(0, 8).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  // idle and iowait are the 4th and 5th fields.
  return { busy: total - ticks[3] - ticks[4], total };
}

/** Scripts redis-server has run so far (EVALSHA and EVAL calls, from `INFO commandstats`): one round trip each. */
async function scriptsRun(client) {
  const stats = await client.info('commandstats');
  let calls = 0;
  for (const match of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

/** One level: `processes` workers, all admitting for `durationMs` at the same time. */
async function level(redis, processes, { durationMs, warmupMs, concurrency }) {
  const stats = new Redis(redis.url);
  const workers = Array.from(
    { length: processes },
    () =>
      new Worker('gate-redis', {
        BENCH_REDIS_URL: redis.url,
        BENCH_REDIS_KEY_PREFIX: `bench-scale-${processes}`,
        // No request leaves these workers; the SDK client only needs a well-formed address.
        BENCH_OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      }),
  );
  try {
    await Promise.all(workers.map((worker) => worker.ready));
    await Promise.all(
      workers.map((worker) => worker.run('gateTimed', { durationMs: warmupMs, concurrency })),
    );
    const scriptsBefore = await scriptsRun(stats);
    const redisBefore = processCpuMs(redis.pid);
    const machineBefore = machineTicks();
    const started = performance.now();
    const results = await Promise.all(
      workers.map((worker) => worker.run('gateTimed', { durationMs, concurrency })),
    );
    const wallMs = performance.now() - started;
    const redisCpuMs = processCpuMs(redis.pid) - redisBefore;
    const machineAfter = machineTicks();
    const scripts = (await scriptsRun(stats)) - scriptsBefore;
    const perProcess = results.map((result) => (result.count / result.wallMs) * 1000);
    const aggregate = perProcess.reduce((sum, rate) => sum + rate, 0);
    const admissions = results.reduce((sum, result) => sum + result.count, 0);
    const workersCpuMs = results.reduce((sum, result) => sum + result.cpuMs, 0);
    return {
      processes,
      aggregate,
      perProcess: aggregate / processes,
      medianMs: median(results.flatMap((result) => result.latencies)),
      redisBusy: redisCpuMs / wallMs,
      workersBusy: workersCpuMs / wallMs,
      // Share of all cores busy, whoever used them (this machine is shared).
      machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
      redisMicrosPerAdmission: (redisCpuMs * 1000) / admissions,
      workersMicrosPerAdmission: (workersCpuMs * 1000) / admissions,
      scriptsPerAdmission: scripts / admissions,
    };
  } finally {
    stats.disconnect();
    await Promise.all(workers.map((worker) => worker.close().catch(() => {})));
  }
}

const percent = (share) => `${fixed(share * 100, 0)} %`;

/** What the figures say limits the aggregate: Redis's one thread, the cores, or neither. */
function interpretation(rows, cores) {
  const first = rows[0];
  const last = rows.at(-1);
  const growth = rows
    .slice(1)
    .map((row) => `${fixed(row.aggregate / first.aggregate, 2)}× with ${row.processes}`)
    .join(', ');
  const cpuPerAdmission = last.redisMicrosPerAdmission + last.workersMicrosPerAdmission;
  // What each resource alone would allow at the last level's cost per admission.
  const redisCeiling = 1e6 / last.redisMicrosPerAdmission;
  const coresCeiling = (cores * 1e6) / cpuPerAdmission;
  const others = Math.max(0, last.machineBusy - (last.redisBusy + last.workersBusy) / cores);
  // How close the aggregate came to each ceiling; the nearer one is what binds.
  const redisShare = last.aggregate / redisCeiling;
  const coresShare = last.aggregate / coresCeiling;
  const ceilings =
    `at ${fixed(last.redisMicrosPerAdmission, 0)} µs of Redis CPU and ${fixed(last.workersMicrosPerAdmission, 0)} µs of client CPU per admission, ` +
    `Redis's thread alone allows about ${thousands(redisCeiling)}/s and the ${cores} cores about ${thousands(coresCeiling)}/s; ` +
    `${last.processes} processes reached ${percent(redisShare)} and ${percent(coresShare)} of those.`;
  let bottleneck;
  if (Math.max(redisShare, coresShare) < 0.7) {
    bottleneck = `neither CPU (${ceilings}) — round trips and waiting bound the rate.`;
  } else if (redisShare >= coresShare) {
    bottleneck = `Redis's single thread (${ceilings}) More clients only queue behind it.`;
  } else {
    bottleneck =
      `the ${cores} cores (${ceilings}) Redis's thread ran at ${percent(last.redisBusy)} of a core: it never had one to itself while the workers` +
      `${others >= 0.1 ? ` and other work (about ${percent(others)} of the machine)` : ''} used the rest, so added processes bring contention, not capacity.`;
  }
  return (
    `Aggregate admissions/s changed ${growth} process(es) over one; the median admission went from ${fixed(first.medianMs, 2)} ms to ${fixed(last.medianMs, 2)} ms. ` +
    `With one process redis-server was already ${percent(first.redisBusy)} busy. ` +
    `CPU per admission went from ${fixed(first.redisMicrosPerAdmission, 0)} to ${fixed(last.redisMicrosPerAdmission, 0)} µs in Redis and from ${fixed(first.workersMicrosPerAdmission, 0)} to ${fixed(last.workersMicrosPerAdmission, 0)} µs in the clients. ` +
    `Limit: ${bottleneck} ` +
    `This machine has ${cores} cores shared by every worker and by redis-server (machine ${percent(last.machineBusy)} busy at ${last.processes} processes, whoever used it); ` +
    "on a server where the clients run elsewhere, Redis's thread is the shared ceiling: one core divided by its CPU per admission."
  );
}

/**
 * Runs every level against one redis-server and returns the report section. Each level gets
 * its own key prefix, shared by all of that level's processes.
 */
export async function scaleSection(redis, { processCounts, durationMs, warmupMs, concurrency, cores, log }) {
  const rows = [];
  for (const processes of processCounts) {
    log?.(`   ${processes} process(es) …`);
    rows.push(await level(redis, processes, { durationMs, warmupMs, concurrency }));
  }
  return {
    title: '7. Scale: processes sharing one Redis budget and rate limit',
    rows,
    body: table(
      [
        'processes',
        'aggregate admissions/s',
        'per process /s',
        'median admission ms',
        'redis-server CPU',
        'workers CPU',
        'machine busy',
        'redis CPU µs/admission',
        'workers CPU µs/admission',
        'Redis scripts/admission',
      ],
      rows.map((row) => [
        String(row.processes),
        thousands(row.aggregate),
        thousands(row.perProcess),
        fixed(row.medianMs, 2),
        percent(row.redisBusy),
        percent(row.workersBusy),
        percent(row.machineBusy),
        fixed(row.redisMicrosPerAdmission, 1),
        fixed(row.workersMicrosPerAdmission, 1),
        fixed(row.scriptsPerAdmission, 2),
      ]),
    ),
    note:
      `Each process: the full gate on Redis (\`createRedisGuardStore\`, one key prefix for all processes of a level: one daily USD budget, one per-tenant token budget, one RPM/TPM limit, none binding), ` +
      `\`guard.run()\` around a no-op, ${concurrency} callers, all processes admitting at once for ${fixed(durationMs / 1000, 1)} s after a ${fixed(warmupMs / 1000, 1)} s warm-up. ` +
      "CPU is the share of one core over the run: redis-server from `/proc/<pid>/stat` (utime + stime) before and after, the workers from `process.cpuUsage()` (summed); machine busy is the share of all cores from `/proc/stat`, whoever used it. The bench's parent process idles meanwhile. " +
      "Redis scripts per admission: EVALSHA and EVAL calls (`INFO commandstats`, before and after) over admissions, each one round trip: the ledger's reservation, the settlement's `finish`, and the rate limiter's bottleneck jobs, which lease permits for many calls at a time.\n\n" +
      interpretation(rows, cores),
  };
}
