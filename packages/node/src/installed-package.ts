import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A package as installed on disk: where it is and what it declares. */
export interface InstalledPackage {
  /** Real path of the package's directory (symlinks resolved, as Node resolves modules). */
  readonly root: string;
  readonly name: string;
  readonly version: string;
  /** The file `import` loads (`kind: 'import'`) or `require` loads (`kind: 'require'`). */
  entry(kind: 'import' | 'require'): string | undefined;
}

/** Reads the package at `root`, or undefined when it has no readable package.json. */
export function readInstalledPackage(root: string): InstalledPackage | undefined {
  let manifest: { name?: unknown; version?: unknown; main?: unknown; exports?: unknown };
  try {
    manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const realRoot = realpathSync(root);
  return {
    root: realRoot,
    name: typeof manifest.name === 'string' ? manifest.name : '',
    version: typeof manifest.version === 'string' ? manifest.version : '',
    entry(kind) {
      const target = manifest.exports === undefined ? undefined : exportTarget(manifest.exports, kind);
      const relative =
        target ??
        (manifest.exports === undefined && typeof manifest.main === 'string' ? manifest.main : undefined);
      if (relative === undefined)
        return manifest.exports === undefined ? existing(join(realRoot, 'index.js')) : undefined;
      return existing(resolve(realRoot, relative)) ?? existing(resolve(realRoot, `${relative}.js`));
    },
  };
}

/**
 * The package `name` that a bare `import`/`require` from a file in `fromDirectory` finds:
 * the nearest `node_modules/<name>` walking up, as Node's resolver does.
 */
export function findInstalledPackage(name: string, fromDirectory: string): InstalledPackage | undefined {
  for (let directory = fromDirectory; ; directory = dirname(directory)) {
    const candidate = join(directory, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return readInstalledPackage(candidate);
    if (dirname(directory) === directory) return undefined;
  }
}

// Conditions Node applies by default; the package's `exports` order decides between them.
// `module-sync` came with require(esm) (Node 20.19 / 22.12).
const SYNC = process.features.require_module ? ['module-sync'] : [];
const CONDITIONS = {
  import: new Set(['node', 'import', ...SYNC, 'default']),
  require: new Set(['node', 'require', ...SYNC, 'default']),
};

/** The `exports` target of the package's main entry (`.`) under Node's default conditions. */
function exportTarget(exports: unknown, kind: 'import' | 'require'): string | undefined {
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) {
    for (const candidate of exports) {
      const target = exportTarget(candidate, kind);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (exports === null || typeof exports !== 'object') return undefined;
  const map = exports as Record<string, unknown>;
  const keys = Object.keys(map);
  if (keys.some((key) => key.startsWith('.'))) return '.' in map ? exportTarget(map['.'], kind) : undefined;
  for (const key of keys) {
    if (!CONDITIONS[kind].has(key)) continue;
    const target = exportTarget(map[key], kind);
    if (target !== undefined) return target;
  }
  return undefined;
}

function existing(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Whether Node runs `file` (an app's entry) as an ES module: by extension, else by the nearest package.json `type`. */
export function isEsmFile(file: string): boolean {
  if (/\.m[jt]s$/.test(file)) return true;
  if (/\.c[jt]s$/.test(file)) return false;
  for (let directory = dirname(file); ; directory = dirname(directory)) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
        type?: unknown;
      };
      return manifest.type === 'module';
    } catch {
      // no package.json here: look further up
    }
    if (dirname(directory) === directory) return false;
  }
}
