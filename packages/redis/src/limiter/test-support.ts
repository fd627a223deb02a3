/**
 * Test support for the limiter datastore's tests, not part of the package (tsup builds from
 * index.ts only): a real redis-server with an admin client, and a chat call to gate.
 */
import type { LlmCallDescriptor } from '@tollgate/core';
import { Redis } from 'ioredis';
import { startRedisServer, type TestRedisServer } from '../../test/redis-server';

/** A redis-server for one describe block and a client that inspects or flushes it. */
export interface AdminRedis {
  server: TestRedisServer;
  admin: Redis;
}

/** Starts a redis-server and connects an admin client that retries while it is down. */
export async function startAdminRedis(): Promise<AdminRedis> {
  const server = await startRedisServer();
  const admin = new Redis(server.url, { retryStrategy: () => 50 });
  // The tests stop the server on purpose: the admin client's connection errors are expected.
  admin.on('error', () => {});
  return { server, admin };
}

/** Starts the server again when a test left it stopped, so the next test finds it up. */
export async function restartIfStopped({ server, admin }: AdminRedis): Promise<void> {
  if (!(await admin.ping().catch(() => undefined))) await server.start();
}

/** Closes the admin client and stops the server; either may be missing when the start failed. */
export async function stopAdminRedis({ server, admin }: Partial<AdminRedis>): Promise<void> {
  admin?.disconnect();
  await server?.dispose();
}

/** An OpenAI chat call with a small output cap. */
export function chat(model = 'gpt-4o-mini'): LlmCallDescriptor {
  return {
    provider: 'openai',
    operation: 'chat',
    model,
    body: { model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
  };
}
