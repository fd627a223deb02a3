export { readConfigFile } from './config-file';
export { tollgateInstrumentations } from './instrumentations';
export type { TollgateHandle } from './register';
export { register } from './register';
export type { RegisterOptions } from './register-options';
