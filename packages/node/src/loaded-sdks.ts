import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { diag } from '@opentelemetry/api';
import { emitTollgateWarning } from '@tollgate/core/instrumentation';
import {
  findInstalledPackage,
  type InstalledPackage,
  isEsmFile,
  readInstalledPackage,
} from './installed-package';
import { satisfiesRange } from './version-range';

/** A provider SDK Tollgate gates, and the instrumentation call that patches a copy of it in place. */
export interface SdkPatcher {
  /** npm name, e.g. `openai`. */
  readonly packageName: string;
  /** The versions the instrumentation supports, e.g. `>=5 <8`. */
  readonly supportedRange: string;
  /** Patches the classes of one loaded copy (its module exports or ES module namespace). */
  instrument(moduleExports: unknown): void;
}

// Copies already patched by this process's copies of @tollgate/node (register() twice, or
// tollgateInstrumentations() and register()) are not patched or reported again.
const PATCHED_KEY = Symbol.for('tollgate.node.patched-sdk-copies.v1');
function patchedCopies(): WeakSet<object> {
  const registry = globalThis as Record<symbol, WeakSet<object> | undefined>;
  registry[PATCHED_KEY] ??= new WeakSet<object>();
  return registry[PATCHED_KEY];
}

const localRequire = createRequire(import.meta.url);

/**
 * Patches copies of the SDKs that are already loaded when Tollgate starts, so an app that
 * loaded them first is gated from now on instead of silently not at all:
 *
 * - CommonJS: every copy in `require.cache` (the entry module of any installed copy).
 * - ES modules: when the app's entry (`process.argv[1]`) is an ES module, the copy its own
 *   `import 'openai'` resolves to (the nearest `node_modules`, `exports` import condition). It is
 *   loaded synchronously with `require()` of the ES module, which returns the very instance the
 *   app's static import got (evaluating it now if the static graph has linked but not yet run it),
 *   so the patch is in place before the app's next statement. Where `require()` of an ES module is
 *   unavailable, it falls back to `import()`: that patch lands only after the current synchronous
 *   module evaluation, and a warning says calls before it are not gated.
 */
export function patchLoadedSdks(patchers: readonly SdkPatcher[]): void {
  for (const patcher of patchers) {
    try {
      for (const copy of loadedCommonJsCopies(patcher.packageName)) {
        patchCopy(patcher, copy.installed, copy.exports, 'CommonJS', true);
      }
      patchAppEsmCopy(patcher);
    } catch (error) {
      // Finding copies reads the file system: never let that break the app's startup.
      diag.warn(`tollgate: looking for loaded ${patcher.packageName} copies failed`, error);
    }
  }
}

function loadedCommonJsCopies(packageName: string): Array<{ installed: InstalledPackage; exports: unknown }> {
  const cache = localRequire.cache;
  const marker = `${sep}node_modules${sep}${packageName.replace('/', sep)}${sep}`;
  const roots = new Set<string>();
  for (const file of Object.keys(cache)) {
    const at = file.lastIndexOf(marker);
    if (at >= 0) roots.add(file.slice(0, at + marker.length - 1));
  }
  const copies: Array<{ installed: InstalledPackage; exports: unknown }> = [];
  for (const root of roots) {
    const installed = readInstalledPackage(root);
    const entry = installed?.entry('require');
    const module = entry ? cache[entry] : undefined;
    if (installed && module?.loaded) copies.push({ installed, exports: module.exports });
  }
  return copies;
}

function patchAppEsmCopy(patcher: SdkPatcher): void {
  const appEntry = process.argv[1];
  if (!appEntry || !isEsmFile(appEntry)) return;
  const installed = findInstalledPackage(patcher.packageName, dirname(realPath(appEntry)));
  const entry = installed?.entry('import');
  // A package without a separate ES build hands `import` its CommonJS copy: covered above once loaded.
  if (!installed || !entry || entry === installed.entry('require')) return;
  if (!checkVersion(patcher, installed)) return;
  if (process.features.require_module) {
    let namespace: unknown;
    try {
      namespace = localRequire(entry);
    } catch (error) {
      diag.debug(`tollgate: require() of ${entry} failed, falling back to import()`, error);
    }
    if (namespace !== undefined) {
      patchCopy(patcher, installed, namespace, 'ES module', false);
      return;
    }
  }
  const url = pathToFileURL(entry).href;
  import(url).then(
    (namespace: unknown) => {
      patchCopy(patcher, installed, namespace, 'ES module', false);
      emitTollgateWarning(
        'TOLLGATE_SDK_PATCHED_LATE',
        `${describe(installed)} (ES module) was patched asynchronously, after the app's static imports ran: ` +
          'calls made before this warning are NOT gated. Start Tollgate with `node --import @tollgate/node/register` ' +
          '(or register() in a file loaded with --import) to gate every call.',
        `${installed.root}:esm-async`,
      );
    },
    (error: unknown) => {
      emitTollgateWarning(
        'TOLLGATE_SDK_NOT_PATCHABLE',
        `${describe(installed)} (ES module) could not be loaded to patch it (${(error as Error)?.message}); ` +
          'its calls are NOT gated. Start Tollgate with `node --import @tollgate/node/register`.',
        `${installed.root}:esm`,
      );
    },
  );
}

function patchCopy(
  patcher: SdkPatcher,
  installed: InstalledPackage,
  moduleExports: unknown,
  format: 'CommonJS' | 'ES module',
  reportLate: boolean,
): void {
  if (moduleExports === null || (typeof moduleExports !== 'object' && typeof moduleExports !== 'function'))
    return;
  const patched = patchedCopies();
  if (patched.has(moduleExports)) return;
  if (!checkVersion(patcher, installed)) return;
  patcher.instrument(moduleExports);
  patched.add(moduleExports);
  if (reportLate) {
    emitTollgateWarning(
      'TOLLGATE_SDK_PATCHED_LATE',
      `${describe(installed)} (${format}) was loaded before Tollgate started; it is patched in place now, ` +
        'so calls from here on are gated, but calls made before were NOT. Start Tollgate before the SDK is loaded ' +
        '(`node --import @tollgate/node/register`, or register() at the top of the entry file).',
      `${installed.root}:${format}`,
    );
  }
}

function checkVersion(patcher: SdkPatcher, installed: InstalledPackage): boolean {
  if (satisfiesRange(installed.version, patcher.supportedRange)) return true;
  emitTollgateWarning(
    'TOLLGATE_UNSUPPORTED_SDK_VERSION',
    `${describe(installed)} is outside the range Tollgate supports (${patcher.supportedRange}); ` +
      'it is left unpatched and its calls are NOT gated.',
    installed.root,
  );
  return false;
}

function describe(installed: InstalledPackage): string {
  return `${installed.name} ${installed.version} at ${installed.root}`;
}

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
