import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, redisServerArgs } from './redis-server';

// Real Redis topologies on loopback for the failover tests: a primary with a replica watched
// by three Sentinels, and a three-master Cluster with a password. Every process is a real
// redis-server started here, in a temp directory, without persistence.

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One redis-server (or Sentinel) process. */
export interface RedisProcess {
  readonly port: number;
  /** Sends a signal: SIGKILL crashes it, SIGSTOP freezes it (a VM pause), SIGCONT resumes it. */
  signal(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

async function spawnRedis(port: number, args: string[], password?: string): Promise<RedisProcess> {
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  await waitUntilAnswering(port, child, password);
  return {
    port,
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function waitUntilAnswering(port: number, child: ChildProcess, password?: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited (${child.exitCode})`);
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      password,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      // not up yet
    } finally {
      probe.disconnect();
    }
    await sleep(25);
  }
  throw new Error(`redis-server on port ${port} did not answer within 10 s`);
}

async function until<T>(
  what: string,
  timeoutMillis: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMillis;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
}

/** A primary, one replica and three Sentinels (quorum 2), tuned to fail over in ~2 s. */
export interface SentinelTopology {
  readonly masterName: string;
  readonly sentinels: { host: string; port: number }[];
  readonly primary: RedisProcess;
  readonly replica: RedisProcess;
  /** The primary's port as the Sentinels report it now. */
  currentPrimaryPort(): Promise<number>;
  /** Resolves with the new primary's port once the Sentinels have promoted another node. */
  waitForPromotion(fromPort: number, timeoutMillis?: number): Promise<number>;
  /** Resolves once `node` reports `role` (`slave` once Sentinel has demoted it). */
  waitForRole(node: RedisProcess, role: 'master' | 'slave', timeoutMillis?: number): Promise<void>;
  dispose(): Promise<void>;
}

export interface SentinelTimings {
  /** Sentinel `down-after-milliseconds`. @default 400 */
  downAfterMillis?: number;
  /** Sentinel `failover-timeout`. @default 2000 */
  failoverTimeoutMillis?: number;
}

export async function startSentinelTopology(timings: SentinelTimings = {}): Promise<SentinelTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-sentinel-'));
  const masterName = 'tollgate-primary';
  const processes: RedisProcess[] = [];
  const admins = new Map<number, Redis>();
  const admin = (port: number) => {
    const known = admins.get(port);
    if (known) return known;
    const client = new Redis({
      port,
      host: '127.0.0.1',
      retryStrategy: () => 100,
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
    });
    client.on('error', () => {});
    admins.set(port, client);
    return client;
  };
  try {
    const primaryPort = await freePort();
    const replicaPort = await freePort();
    const primary = await spawnRedis(primaryPort, redisServerArgs(primaryPort, dir));
    processes.push(primary);
    const replica = await spawnRedis(replicaPort, [
      ...redisServerArgs(replicaPort, dir),
      '--replicaof',
      '127.0.0.1',
      String(primaryPort),
      '--dbfilename',
      `replica-${replicaPort}.rdb`,
    ]);
    processes.push(replica);
    const primaryAdmin = admin(primaryPort);
    await until('the replica to sync', 10_000, async () =>
      /connected_slaves:1/.test(await primaryAdmin.info('replication')) &&
      /master_link_status:up/.test(await admin(replicaPort).info('replication'))
        ? true
        : undefined,
    );

    const sentinels: { host: string; port: number }[] = [];
    for (let index = 0; index < 3; index++) {
      const port = await freePort();
      const config = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        config,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${masterName} ${timings.downAfterMillis ?? 400}`,
          `sentinel failover-timeout ${masterName} ${timings.failoverTimeoutMillis ?? 2000}`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
      );
      processes.push(await spawnRedis(port, [config, '--sentinel', '--loglevel', 'warning']));
      sentinels.push({ host: '127.0.0.1', port });
    }
    // A failover needs a majority of Sentinels that know each other and the replica.
    for (const sentinel of sentinels) {
      const client = admin(sentinel.port);
      await until('the Sentinels to discover each other', 15_000, async () => {
        const fields = (await client.call('SENTINEL', 'MASTER', masterName)) as string[];
        const info = Object.fromEntries(
          fields.flatMap((value, i) => (i % 2 === 0 ? [[value, fields[i + 1]]] : [])),
        );
        return Number(info['num-other-sentinels']) === 2 && Number(info['num-slaves']) === 1
          ? true
          : undefined;
      });
    }

    const sentinelAdmin = admin(sentinels[0]!.port);
    const currentPrimaryPort = async () => {
      const [, port] = (await sentinelAdmin.call(
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        masterName,
      )) as string[];
      return Number(port);
    };
    return {
      masterName,
      sentinels,
      primary,
      replica,
      currentPrimaryPort,
      waitForPromotion: (fromPort, timeoutMillis = 15_000) =>
        until('a promotion', timeoutMillis, async () => {
          const port = await currentPrimaryPort();
          if (port === fromPort) return undefined;
          const role = (await admin(port).role()) as unknown[];
          return role[0] === 'master' ? port : undefined;
        }),
      async waitForRole(node, role, timeoutMillis = 20_000) {
        const client = admin(node.port);
        await until(`port ${node.port} to become ${role}`, timeoutMillis, async () =>
          ((await client.role()) as unknown[])[0] === role ? true : undefined,
        );
      },
      async dispose() {
        for (const client of admins.values()) client.disconnect();
        await Promise.all(processes.map((process_) => process_.stop()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const client of admins.values()) client.disconnect();
    await Promise.all(processes.map((process_) => process_.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A Redis Cluster of three masters, no replicas, every node protected by `password`. */
export interface TestRedisCluster {
  readonly nodes: { host: string; port: number }[];
  readonly password: string;
  dispose(): Promise<void>;
}

export async function startRedisCluster(password: string): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cluster-'));
  const processes: RedisProcess[] = [];
  try {
    const nodes: { host: string; port: number }[] = [];
    for (let index = 0; index < 3; index++) {
      const port = await freePort();
      // The cluster bus gets its own free port: port + 10000 may be taken or out of range.
      const busPort = await freePort();
      processes.push(
        await spawnRedis(
          port,
          [
            ...redisServerArgs(port, dir),
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '1000',
            '--requirepass',
            password,
            '--masterauth',
            password,
          ],
          password,
        ),
      );
      nodes.push({ host: '127.0.0.1', port });
    }
    await run(
      'redis-cli',
      [
        '-a',
        password,
        '--no-auth-warning',
        '--cluster',
        'create',
        ...nodes.map((node) => `${node.host}:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 20_000 },
    );
    for (const node of nodes) {
      const client = new Redis({ ...node, password, retryStrategy: () => 100 });
      client.on('error', () => {});
      try {
        await until('the cluster to be ok', 15_000, async () =>
          /cluster_state:ok/.test((await client.call('CLUSTER', 'INFO')) as string) ? true : undefined,
        );
      } finally {
        client.disconnect();
      }
    }
    return {
      nodes,
      password,
      async dispose() {
        await Promise.all(processes.map((process_) => process_.stop()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(processes.map((process_) => process_.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
