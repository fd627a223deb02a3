import { TollgateConfigError } from '../errors/config-error';
import type { CacheChoice } from '../scope/scope';

/**
 * Checks a call's `cache` choice (`withScope({ cache })`) when the cache reads it: a bad one
 * rejects the call with the option named, as a malformed request field would.
 */
export function checkCacheChoice(choice: CacheChoice | undefined): void {
  if (choice === undefined || typeof choice === 'boolean') return;
  if (typeof choice !== 'object' || choice === null || Array.isArray(choice))
    throw new TollgateConfigError(
      'scope.cache',
      'must be true, false or { ttlMillis?, sampledChoices?, toolCalls? }',
      choice,
    );
  for (const key of Object.keys(choice)) {
    if (key !== 'ttlMillis' && key !== 'sampledChoices' && key !== 'toolCalls')
      throw new TollgateConfigError(
        `scope.cache.${key}`,
        'is not a known option (expected one of: ttlMillis, sampledChoices, toolCalls)',
        choice[key as keyof typeof choice],
      );
  }
  const { ttlMillis, sampledChoices, toolCalls } = choice;
  if (ttlMillis !== undefined && !(Number.isInteger(ttlMillis) && ttlMillis >= 1))
    throw new TollgateConfigError('scope.cache.ttlMillis', 'must be a whole number of at least 1', ttlMillis);
  if (sampledChoices !== undefined && typeof sampledChoices !== 'boolean')
    throw new TollgateConfigError('scope.cache.sampledChoices', 'must be a boolean', sampledChoices);
  if (toolCalls !== undefined && typeof toolCalls !== 'boolean')
    throw new TollgateConfigError('scope.cache.toolCalls', 'must be a boolean', toolCalls);
}
