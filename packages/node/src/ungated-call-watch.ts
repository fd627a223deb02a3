import { subscribe } from 'node:diagnostics_channel';
import { context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { activeGuardedCall, emitTollgateWarning } from '@tollgate/core/instrumentation';

const WATCH_KEY = Symbol.for('tollgate.node.ungated-call-watch.v1');

/**
 * Requests Tollgate gates: openai's chat, responses, embeddings and completions, Anthropic's
 * messages, Gemini's generate and embed methods (POST).
 */
const GATED_PATH =
  /(\/(chat\/completions|responses|embeddings|completions|messages)|:(generateContent|streamGenerateContent|batchEmbedContents|embedContent))(\?|$)/;
/** The SDKs name themselves in the User-Agent: `OpenAI/JS 6.49.0`, `Anthropic/JS 1.12.0`, `google-genai-sdk/2.32.0`. */
const SDK_AGENT = /^(?:(OpenAI|Anthropic)\/JS |(google-genai-sdk)\/)([^\s]+)/;
const SDK_PACKAGES: Readonly<Record<string, string>> = {
  OpenAI: 'openai',
  Anthropic: '@anthropic-ai/sdk',
  'google-genai-sdk': '@google/genai',
};

/**
 * Watches every outgoing HTTP request (fetch/undici and `node:http`, through Node's diagnostics
 * channels, which observe without wrapping anything) and warns once per SDK version when a
 * supported SDK sends a gated kind of request outside a gated call: a copy Tollgate could not
 * patch (bundled into the app, loaded from a path the app's entry does not resolve, or an
 * unsupported version), or a patch that was removed. Costs one header lookup per request.
 */
export function watchForUngatedCalls(): void {
  const registry = globalThis as Record<symbol, boolean | undefined>;
  if (registry[WATCH_KEY]) return;
  registry[WATCH_KEY] = true;
  subscribe('undici:request:create', (message) => {
    const { request } = message as { request: { method?: string; path?: string; headers?: unknown } };
    check(request.method, request.path, () => undiciHeader(request.headers, 'user-agent'));
  });
  subscribe('http.client.request.start', (message) => {
    const { request } = message as {
      request: { method?: string; path?: string; getHeader?: (name: string) => unknown };
    };
    check(request.method, request.path, () => {
      // node-fetch (openai 4) sets headers as arrays of values.
      const value = request.getHeader?.('user-agent');
      return Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : undefined;
    });
  });
}

function check(
  method: string | undefined,
  path: string | undefined,
  userAgent: () => string | undefined,
): void {
  if (method !== 'POST' || !path || !GATED_PATH.test(path)) return;
  const sdk = SDK_AGENT.exec(userAgent() ?? '');
  if (!sdk || activeGuardedCall() || !contextPropagates()) return;
  const name = SDK_PACKAGES[sdk[1] ?? sdk[2] ?? ''] ?? 'an SDK';
  const version = sdk[3];
  emitTollgateWarning(
    'TOLLGATE_UNGATED_CALL',
    `a call by ${name} ${version} (POST ${path.split('?')[0]}) was sent WITHOUT passing Tollgate's gate: no budget or ` +
      'rate limit was checked and its cost is not counted. This copy of the SDK is not patched — it was loaded where ' +
      'Tollgate cannot reach it (bundled into the app, or resolved from another directory than the app entry), its ' +
      'version is unsupported, or it was used before Tollgate started. See @tollgate/node README, "What gets gated".',
    `${name}@${version}`,
  );
}

const PROBE_KEY = createContextKey('tollgate.node.context-probe');

/**
 * Whether an OpenTelemetry context manager carries context here. Without one no call is ever
 * seen as gated, and the gate reports that itself (TOLLGATE_NO_CONTEXT_MANAGER).
 */
function contextPropagates(): boolean {
  const probe = ROOT_CONTEXT.setValue(PROBE_KEY, true);
  return context.with(probe, () => context.active()) === probe;
}

/** A header of an undici request: `headers` is a flat [name, value, ...] array, or "name: value\r\n" text in older undici. */
function undiciHeader(headers: unknown, name: string): string | undefined {
  if (Array.isArray(headers)) {
    for (let index = 0; index + 1 < headers.length; index += 2) {
      if (String(headers[index]).toLowerCase() === name) return String(headers[index + 1]);
    }
    return undefined;
  }
  if (typeof headers === 'string') {
    for (const line of headers.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name)
        return line.slice(colon + 1).trim();
    }
  }
  return undefined;
}
