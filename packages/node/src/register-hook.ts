// `node --import @tollgate/node/register app.js`: no code change in the app. register()
// installs the ESM loader hook before the app's own imports run, then the configuration from
// TOLLGATE_CONFIG (JSON or YAML) and the standard OTEL_* variables starts everything.
import { readConfigFile } from './config-file';
import { register } from './register';

const configPath = process.env.TOLLGATE_CONFIG;
register(configPath ? readConfigFile(configPath) : {});
