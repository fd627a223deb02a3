import { defineConfig } from 'tsup';

// A command, not a library: one ESM file that Node runs directly (the shebang is kept from the source).
export default defineConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  keepNames: true,
});
