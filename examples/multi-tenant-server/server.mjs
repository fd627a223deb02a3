// An HTTP API in front of an LLM. The tenant comes from the `x-tenant` header; every SDK call made
// while handling the request is attributed to it with withScope(). A call the gate refuses is
// answered 429 with `retry-after`, and no request reaches the provider.
import { createServer } from 'node:http';
import { BudgetExceededError, PolicyRejectedError, RateLimitedError, withScope } from '@tollgate/core';

/**
 * Creates the server (not yet listening).
 * @param openai an OpenAI client (patched by the instrumentation loaded in gate.mjs)
 */
export function createAnswerServer(openai) {
  return createServer(async (request, response) => {
    const tenant = request.headers['x-tenant'];
    if (request.method !== 'POST' || request.url !== '/answer')
      return reply(response, 404, { error: 'not_found' });
    if (typeof tenant !== 'string' || tenant === '')
      return reply(response, 400, { error: 'x-tenant header required' });
    let body;
    try {
      body = JSON.parse(await readBody(request));
    } catch {
      return reply(response, 400, { error: 'body must be JSON' });
    }

    try {
      const completion = await withScope({ tenant }, () =>
        openai.chat.completions.create({
          model: body.model ?? 'gpt-4o-mini',
          max_tokens: body.maxTokens ?? 100,
          messages: [{ role: 'user', content: String(body.question) }],
        }),
      );
      reply(response, 200, { answer: completion.choices[0].message.content, usage: completion.usage });
    } catch (error) {
      const refusal = describeRefusal(error);
      if (!refusal) return reply(response, 502, { error: 'upstream_error', message: String(error?.message) });
      if (refusal.retryAfterSeconds !== undefined)
        response.setHeader('retry-after', String(refusal.retryAfterSeconds));
      reply(response, 429, { error: refusal.code, message: error.message });
    }
  });
}

/** Maps the gate's typed refusals to a 429 body code and a `retry-after` in whole seconds. */
function describeRefusal(error) {
  if (BudgetExceededError.isInstance(error)) {
    // The budget's window resets at resetAtMs: retrying earlier cannot succeed.
    return { code: 'budget_exceeded', retryAfterSeconds: seconds(error.resetAtMs - Date.now()) };
  }
  if (RateLimitedError.isInstance(error)) {
    // Infinity: the call can never fit the limit, so no retry-after is promised.
    const retryAfterSeconds = Number.isFinite(error.retryAfterMs) ? seconds(error.retryAfterMs) : undefined;
    return { code: 'rate_limited', retryAfterSeconds };
  }
  if (PolicyRejectedError.isInstance(error)) {
    return { code: `policy_${error.action}`, retryAfterSeconds: seconds(error.retryAfterMs) };
  }
  return undefined;
}

function seconds(millis) {
  return Math.max(1, Math.ceil(millis / 1000));
}

function reply(response, status, payload) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(payload));
}

async function readBody(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
