import type { Options } from 'tsup';
import { packageBuild } from '../../.config/tsup.base';

// Three public entry points sharing one copy of the code they have in common: with splitting,
// a guard from the main entry and the call gate from the instrumentation kit load the same
// modules (in each module system) instead of two bundled copies.
const build = packageBuild({
  index: 'src/index.ts',
  instrumentation: 'src/instrumentation/index.ts',
  testing: 'src/testing/index.ts',
}) as Options;

export default { ...build, splitting: true } satisfies Options;
