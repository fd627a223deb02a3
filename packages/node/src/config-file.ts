import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { TollgateConfigError } from '@tollgate/core';
import { parse as parseYaml } from 'yaml';
import type { RegisterOptions } from './register-options';

/** Sections that hold an object: the guard's configuration and one per instrumented SDK. */
const OBJECT_SECTIONS = ['guard', 'openai', 'anthropic', 'googleGenAI', 'bedrock', 'aiSdk'];
const FILE_KEYS = ['serviceName', ...OBJECT_SECTIONS, 'metricExportIntervalMillis', 'shutdownOnExit'];

/**
 * Reads register options from a JSON or YAML file (by extension; `.yml`/`.yaml` are YAML,
 * anything else JSON). Structure errors name the field; the guard section is validated
 * in full by `createGuard()` when it is used.
 */
export function readConfigFile(path: string): RegisterOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TollgateConfigError(
      'TOLLGATE_CONFIG',
      `names a file that cannot be read (${(error as Error).message})`,
      path,
    );
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(extname(path)) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new TollgateConfigError(
      'TOLLGATE_CONFIG',
      `is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
      path,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TollgateConfigError('TOLLGATE_CONFIG', 'must hold an object at the top level', parsed);
  }
  const record = parsed as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!FILE_KEYS.includes(key)) {
      throw new TollgateConfigError(
        key,
        `is not a known option in ${path} (expected one of: ${FILE_KEYS.join(', ')})`,
        record[key],
      );
    }
  }
  if (record.serviceName !== undefined && typeof record.serviceName !== 'string') {
    throw new TollgateConfigError('serviceName', 'must be a string', record.serviceName);
  }
  for (const section of OBJECT_SECTIONS) {
    const value = record[section];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new TollgateConfigError(section, 'must be an object', value);
    }
  }
  return record as RegisterOptions;
}
