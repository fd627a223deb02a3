import { metrics, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { GuardConfig } from '../config/guard-config';
import { BudgetExceededError } from '../errors/budget-exceeded-error';
import type { DecisionType } from '../events/decision-events';
import { createGuard, type Guard } from '../guard/guard';
import { CallGate } from '../telemetry/call-gate';
import type { APIPromiseParts } from '../telemetry/gated-api-promise';
import { gatedPost, type PostMethod } from './gated-post';

/** The SDK's APIPromise reduced to its parts: the caller reads the parsed result through `result()`. */
class FakeAPIPromise implements APIPromiseParts {
  constructor(
    readonly client: unknown,
    readonly responsePromise: Promise<unknown>,
    readonly parseResponse: (client: unknown, props: unknown) => Promise<unknown>,
  ) {}
  async result(): Promise<unknown> {
    return this.parseResponse(this.client, await this.responsePromise);
  }
}

interface Client {
  name: string;
}

const body = { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
let guard: Guard;
let decisions: DecisionType[];
let sent: Array<{ path: string; opts: unknown }>;

afterEach(async () => {
  await guard.close();
});

/** A client's post(), gated for `/chat`, over a guard made with `config`; `refused` collects what the gate refused. */
function setUp(config: GuardConfig = {}) {
  decisions = [];
  sent = [];
  guard = createGuard({
    ...config,
    onDecision: (event) => {
      decisions.push(event.type);
    },
  });
  const gate = new CallGate(guard, trace.getTracer('test'), metrics.getMeter('test'));
  const refused: unknown[] = [];
  const original: PostMethod<Client> = function (this: Client, path, opts) {
    sent.push({ path, opts });
    return new FakeAPIPromise(this, Promise.resolve({ status: 200 }), async () => ({ id: 'r1' }));
  };
  const post = gatedPost<Client>(original, {
    gate: () => gate,
    APIPromise: FakeAPIPromise,
    gates: (path) => path === '/chat',
    describe: (_client, _path, params) => ({
      request: {
        descriptor: { provider: 'openai', operation: 'chat', model: params.model, body: params },
        streaming: false,
      },
      onRefused: (error) => refused.push(error),
      observe: (parsed, call) => {
        call.complete({ inputTokens: 3, outputTokens: 2 }, 'provider');
        return parsed;
      },
    }),
  });
  return { post, refused, client: { name: 'client' } };
}

describe('gatedPost', () => {
  it('admits a gated request before sending it, and settles it from the parsed result', async () => {
    const { post, client } = setUp();
    const promise = post.call(client, '/chat', { body, signal: undefined }) as FakeAPIPromise;
    expect(promise).toBeInstanceOf(FakeAPIPromise);
    expect(sent).toHaveLength(0);
    await expect(promise.result()).resolves.toEqual({ id: 'r1' });
    expect(sent).toEqual([{ path: '/chat', opts: { body, signal: undefined } }]);
    await guard.close();
    expect(decisions).toEqual(['allowed', 'settled']);
  });

  it('passes untouched what it does not gate: other paths, bodies without a model, an admitted request', async () => {
    const { post, client } = setUp();
    await (post.call(client, '/models', { body }) as FakeAPIPromise).result();
    await (post.call(client, '/chat', { body: { messages: [] } }) as FakeAPIPromise).result();
    // A second gate under the first (as Anthropic's post() floor under create()) lets the admitted request by.
    const inner = gatedPost<Client>(post, {
      gate: () => new CallGate(guard, trace.getTracer('test'), metrics.getMeter('test')),
      APIPromise: FakeAPIPromise,
      gates: () => true,
      describe: () => {
        throw new Error('the admitted request was gated again');
      },
    });
    const outer = gatedPost<Client>(inner, {
      gate: () => new CallGate(guard, trace.getTracer('test'), metrics.getMeter('test')),
      APIPromise: FakeAPIPromise,
      gates: () => true,
      describe: (_client, _path, params) => ({
        request: {
          descriptor: { provider: 'openai', operation: 'chat', model: params.model, body: params },
          streaming: false,
        },
        observe: (parsed, call) => {
          call.complete(undefined, 'provider');
          return parsed;
        },
      }),
    });
    await (outer.call(client, '/elsewhere', { body }) as FakeAPIPromise).result();
    await guard.close();
    expect(sent.map((request) => request.path)).toEqual(['/models', '/chat', '/elsewhere']);
    expect(decisions.filter((type) => type === 'allowed')).toHaveLength(1);
  });

  it('waits for options given as a promise, then gates the request', async () => {
    const { post, client } = setUp();
    const promise = post.call(client, '/chat', Promise.resolve({ body })) as FakeAPIPromise;
    await expect(promise.result()).resolves.toEqual({ id: 'r1' });
    expect(sent).toHaveLength(1);
    await guard.close();
    expect(decisions).toEqual(['allowed', 'settled']);
  });

  it('refuses a call the guard refuses, telling onRefused, and sends nothing', async () => {
    const { post, client, refused } = setUp({
      budgets: [{ id: 'one', limit: { requests: 1 }, window: 'day' }],
    });
    await (post.call(client, '/chat', { body }) as FakeAPIPromise).result();
    const second = post.call(client, '/chat', { body }) as FakeAPIPromise;
    await expect(second.responsePromise).rejects.toSatisfy(BudgetExceededError.isInstance);
    expect(refused).toHaveLength(1);
    expect(sent).toHaveLength(1);
  });
});
