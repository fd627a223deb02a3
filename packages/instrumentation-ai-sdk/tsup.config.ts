import { packageBuild } from '../../.config/tsup.base';

export default packageBuild(['src/index.ts']);
