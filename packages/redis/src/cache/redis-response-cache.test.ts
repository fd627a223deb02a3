import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGuard, type Guard } from '@tollgate/core';
import { telemetryHarness } from '@tollgate/core/testing';
import { OpenAIInstrumentation } from '@tollgate/instrumentation-openai';
import { type MockProvider, startMockProvider } from '@tollgate/mock-provider';
import type { Redis } from 'ioredis';
import * as openaiModule from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { skipWithoutRedis, type TestRedisServer } from '../../test/redis-server';
import { restartIfStopped, startAdminRedis, stopAdminRedis } from '../limiter/test-support';
import { createRedisResponseCache } from './redis-response-cache';
import { decodeReply, encodeReply } from './reply-encoding';

const skip = skipWithoutRedis();

const chatParams = {
  model: 'gpt-4o-mini',
  max_tokens: 20,
  messages: [{ role: 'user' as const, content: 'What are your opening hours?' }],
};

describe('reply encoding', () => {
  it('reads back what it wrote, body bytes untouched', () => {
    const reply = {
      status: 200,
      statusText: 'OK',
      url: 'http://localhost/v1/chat/completions',
      headers: [['content-type', 'text/event-stream']] as const,
      body: new Uint8Array([0, 1, 2, 250, 255]),
      storedAtMs: 1_700_000_000_000,
    };
    expect(decodeReply(encodeReply(reply))).toEqual(reply);
    expect(decodeReply(Buffer.from('not an entry'))).toBeUndefined();
  });
});

describe.skipIf(skip)('a response cache shared through Redis', () => {
  let server: TestRedisServer;
  let admin: Redis;
  let mock: MockProvider;
  let harness: ReturnType<typeof telemetryHarness>;
  let instrumentation: OpenAIInstrumentation;
  let client: InstanceType<typeof openaiModule.OpenAI>;
  const guards: Guard[] = [];
  let prefixes = 0;

  beforeAll(async () => {
    ({ server, admin } = await startAdminRedis());
    mock = await startMockProvider();
  }, 20_000);

  beforeEach(() => {
    harness = telemetryHarness();
    instrumentation = new OpenAIInstrumentation({ guard: createGuard() });
    instrumentation.setTracerProvider(harness.tracerProvider);
    instrumentation.instrument(openaiModule);
    client = new openaiModule.OpenAI({ apiKey: 'test-key', baseURL: mock.openaiBaseUrl, maxRetries: 0 });
    mock.reset();
    mock.configure({ outputTokens: 12, chunkDelayMillis: 0, latencyMillis: 0 });
  });

  afterEach(async () => {
    instrumentation.uninstrument(openaiModule);
    await Promise.all(guards.splice(0).map((guard) => guard.close()));
    await harness.shutdown();
    await restartIfStopped({ server, admin });
  });

  afterAll(async () => {
    await mock?.close();
    await stopAdminRedis({ server, admin });
  });

  /** A guard of its own (as in another process): its own Redis connection, no memory shared with the others. */
  async function processGuard(keyPrefix: string, readTimeoutMillis = 200): Promise<Guard> {
    const store = createRedisResponseCache({ url: server.url, keyPrefix, readTimeoutMillis });
    const guard = createGuard({ cache: { store, rules: [{}] } });
    guards.push(guard);
    // Let the new connection become ready: before that a lookup is a miss by design.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return guard;
  }

  async function waitForKeys(pattern: string): Promise<string[]> {
    for (let i = 0; i < 50; i++) {
      const keys = await admin.keys(pattern);
      if (keys.length > 0) return keys;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return [];
  }

  it('answers a second guard from the reply the first one stored, with its TTL', async () => {
    const prefix = `shared-${++prefixes}`;
    instrumentation.setConfig({ guard: await processGuard(prefix) });
    const first = await client.chat.completions.create(chatParams);
    const keys = await waitForKeys(`${prefix}:cache:*`);
    expect(keys).toHaveLength(1);
    const ttl = await admin.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);

    instrumentation.setConfig({ guard: await processGuard(prefix) });
    const second = await client.chat.completions.create(chatParams);
    await mock.whenIdle();
    expect(mock.requests()).toHaveLength(1);
    expect(second).toEqual(first);
  });

  it('answers a call in another OS process from what the first process stored, streams too', async () => {
    // Each worker loads the built packages, gates the real openai SDK and exits after one call.
    const worker = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/cache-worker.cjs');
    const callIn = async (keyPrefix: string, stream: boolean): Promise<unknown> => {
      const config = { redisUrl: server.url, keyPrefix, openaiBaseUrl: mock.openaiBaseUrl, stream };
      const { stdout } = await promisify(execFile)(process.execPath, [worker], {
        env: { ...process.env, TOLLGATE_WORKER_CONFIG: JSON.stringify(config) },
        timeout: 20_000,
      });
      return JSON.parse(stdout);
    };
    for (const stream of [false, true]) {
      const prefix = `processes-${++prefixes}`;
      mock.reset();
      const first = await callIn(prefix, stream);
      const second = await callIn(prefix, stream);
      expect(mock.requests()).toHaveLength(1);
      expect(second).toEqual(first);
    }
  }, 60_000);

  it('replays a stream stored by another guard', async () => {
    const prefix = `shared-${++prefixes}`;
    const read = async () => {
      const chunks: unknown[] = [];
      for await (const chunk of await client.chat.completions.create({ ...chatParams, stream: true }))
        chunks.push(chunk);
      return chunks;
    };
    instrumentation.setConfig({ guard: await processGuard(prefix) });
    const first = await read();
    await waitForKeys(`${prefix}:cache:*`);
    instrumentation.setConfig({ guard: await processGuard(prefix) });
    const second = await read();
    expect(mock.requests()).toHaveLength(1);
    expect(second).toEqual(first);
  });

  it('treats a Redis slower than readTimeoutMillis as a miss, and the call goes out', async () => {
    const prefix = `slow-${++prefixes}`;
    instrumentation.setConfig({ guard: await processGuard(prefix, 30) });
    await client.chat.completions.create(chatParams);
    await waitForKeys(`${prefix}:cache:*`);
    // Every client's commands wait while Redis is paused: the lookup cannot be answered in time.
    await admin.call('CLIENT', 'PAUSE', '600', 'ALL');
    const again = await client.chat.completions.create(chatParams);
    expect(again.choices[0]?.message.content).toBeTruthy();
    expect(mock.requests()).toHaveLength(2);
    await admin.call('CLIENT', 'UNPAUSE');
  });

  it('treats a Redis that is down as a miss', async () => {
    const prefix = `down-${++prefixes}`;
    instrumentation.setConfig({ guard: await processGuard(prefix) });
    // Stored while Redis is up, so a hit would be possible if the store were still read.
    await client.chat.completions.create(chatParams);
    expect(await waitForKeys(`${prefix}:cache:*`)).toHaveLength(1);
    await server.stop();
    await client.chat.completions.create(chatParams);
    await client.chat.completions.create(chatParams);
    expect(mock.requests()).toHaveLength(3);
  });
});
