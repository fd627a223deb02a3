import { defineConfig, type Options } from 'tsup';

/** One build for every package: ESM + CommonJS with declarations for each. */
export function packageBuild(entry: Options['entry']) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    // Error classes report their own names (error.name, error.type on spans).
    keepNames: true,
    // import.meta.url in the CommonJS build, __filename in the ESM build.
    shims: true,
  });
}
