import { createRequire, register as registerLoader } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';

const HOOK_KEY = Symbol.for('tollgate.node.loader-hook.v2');

interface LoaderHook {
  /** Sends more module names to the hook thread (import-in-the-middle's `addHookMessagePort`). */
  readonly port: MessagePort;
  readonly included: Set<string>;
}

/**
 * Installs OpenTelemetry's ESM loader hook (import-in-the-middle) once per process, so SDKs
 * imported as ES modules after this point are patched too; CommonJS loads are covered without
 * it. Only `modules` are intercepted (import-in-the-middle's `include` list): wrapping every
 * module breaks some packages at startup (openai 4 refuses to load), and costs every import.
 * A later call adds its modules to the same hook.
 */
export function ensureLoaderHook(modules: readonly string[]): void {
  const registry = globalThis as Record<symbol, LoaderHook | undefined>;
  const existing = registry[HOOK_KEY];
  if (existing) {
    const added = modules.filter((name) => !existing.included.has(name));
    if (added.length === 0) return;
    for (const name of added) existing.included.add(name);
    existing.port.postMessage(added);
    return;
  }
  const { port1, port2 } = new MessageChannel();
  // The hook thread acknowledges each list it receives; nothing waits for that here.
  port1.on('message', () => {});
  port1.unref();
  registerLoader('@opentelemetry/instrumentation/hook.mjs', hookParentUrl(), {
    data: { include: [...modules], addHookMessagePort: port2 },
    transferList: [port2],
  });
  registry[HOOK_KEY] = { port: port1, included: new Set(modules) };
}

/**
 * Where the hook is resolved from: the `@opentelemetry/instrumentation` copy Tollgate's
 * instrumentations use, whose import-in-the-middle is the one their ESM hooks register with
 * (each copy keeps its own list of hooks).
 */
function hookParentUrl(): string {
  const localRequire = createRequire(import.meta.url);
  try {
    return pathToFileURL(localRequire.resolve('@tollgate/instrumentation-openai')).href;
  } catch {
    return import.meta.url;
  }
}
