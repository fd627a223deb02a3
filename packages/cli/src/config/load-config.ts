import { accessSync } from 'node:fs';
import type { DecisionEvent, Guard, GuardConfig } from '@tollgate/core';
import { createGuard } from '@tollgate/core';
import type { RegisterOptions } from '@tollgate/node';
import { CliError } from '../cli-error';

/** A config file read exactly as `@tollgate/node` reads `TOLLGATE_CONFIG`, and its guard built. */
export interface LoadedConfig {
  path: string;
  options: RegisterOptions;
  guardConfig: GuardConfig;
  /** A guard built from the file: proof the config is valid, and its price table. Close it. */
  guard: Guard;
  /** Events the guard emitted while starting (e.g. `price-table-stale`). */
  startupEvents: DecisionEvent[];
}

/**
 * Reads a TOLLGATE_CONFIG file (JSON or YAML) and validates its `guard` section by building the
 * guard, as `register()` does. Throws `TollgateConfigError` naming the field, as the app would.
 */
export async function loadConfig(path: string | undefined): Promise<LoadedConfig> {
  let options: RegisterOptions = {};
  if (path !== undefined) {
    try {
      accessSync(path);
    } catch {
      throw new CliError(`Cannot read ${path}: no such file, or no permission to read it`);
    }
    // Loaded on demand: @tollgate/node brings the OpenTelemetry SDK, which other commands do not need.
    const { readConfigFile } = await import('@tollgate/node');
    options = readConfigFile(path);
  }
  const guardConfig = options.guard ?? {};
  const startupEvents: DecisionEvent[] = [];
  const record = (event: DecisionEvent) => void startupEvents.push(event);
  // A file cannot hold a function, so an `onDecision` there is invalid: left for createGuard to report.
  const guard = createGuard(
    guardConfig.onDecision === undefined ? { ...guardConfig, onDecision: record } : guardConfig,
  );
  return { path: path ?? '(none)', options, guardConfig, guard, startupEvents };
}
