import { expectOneOf, expectRecord, optionalBoolean, optionalString } from '../config/config-reader';
import { TollgateConfigError } from '../errors/config-error';
import type { OptionRule, SdkDescription, TollgateInstrumentationConfig } from './sdk-description';

/**
 * An instrumentation's config, checked when it is set (at construction and at each
 * `setConfig()`) so a bad option fails there, with a `TollgateConfigError` naming its path
 * (`instrumentations.anthropic.sdkSpans`), never later at a call. Provider options left unset
 * take their defaults. A missing guard is no error: the instrumentation warns and steps aside.
 */
export function readInstrumentationConfig<Config extends TollgateInstrumentationConfig>(
  config: unknown,
  sdk: SdkDescription,
): Config {
  const path = sdk.configPath;
  const read = { ...(config === undefined ? {} : expectRecord(config, path)) };
  optionalBoolean(read.enabled, `${path}.enabled`);
  optionalString(read.providerName, `${path}.providerName`);
  if (read.guard !== undefined && typeof (read.guard as { admit?: unknown } | null)?.admit !== 'function') {
    throw new TollgateConfigError(`${path}.guard`, 'must be a guard made by createGuard()', read.guard);
  }
  for (const [name, rule] of Object.entries(sdk.options ?? {})) {
    if (read[name] === undefined) {
      if (rule.default !== undefined) read[name] = rule.default;
      continue;
    }
    checkOption(read[name], `${path}.${name}`, rule);
  }
  return read as unknown as Config;
}

function checkOption(value: unknown, field: string, rule: OptionRule): void {
  if ('oneOf' in rule) expectOneOf(value, field, rule.oneOf);
  else if (rule.type === 'boolean') optionalBoolean(value, field);
  else optionalString(value, field);
}
