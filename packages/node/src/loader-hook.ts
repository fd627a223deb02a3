import { register as registerLoader } from 'node:module';
import { pathToFileURL } from 'node:url';

const HOOK_REGISTERED = Symbol.for('tollgate.node.loader-hook');

/**
 * Installs OpenTelemetry's ESM loader hook (once per process), so SDKs imported as ES
 * modules after this point are patched too. CommonJS loads are covered without it.
 */
export function ensureLoaderHook(): void {
  const registry = globalThis as Record<symbol, unknown>;
  if (registry[HOOK_REGISTERED]) return;
  registry[HOOK_REGISTERED] = true;
  // `__filename` exists in the CommonJS build; the ESM build has `import.meta.url`.
  const parentUrl = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  registerLoader('@opentelemetry/instrumentation/hook.mjs', parentUrl);
}
