import { defineConfig } from 'tsup';
import { packageBuild } from '../../.config/tsup.base';

// The `--import` entry is ESM only: it registers the loader hook before the app's imports run.
export default [
  packageBuild(['src/index.ts']),
  defineConfig({
    entry: ['src/register-hook.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    keepNames: true,
  }),
];
