import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type GuardConfig, TollgateConfigError } from '@tollgate/core';
import { findInstalledPackage } from './installed-package';

const localRequire = createRequire(import.meta.url);

/**
 * With `TOLLGATE_REDIS_URL` set, budgets and rate limits live in Redis, shared by every
 * replica: the zero-code path (`--import @tollgate/node/register`) has no other way to say so,
 * and without it each replica would silently enforce a budget of its own. Needs
 * `@tollgate/redis` installed next to the app (found as Node finds a package, from Tollgate's
 * directory and then the app's); when it is missing, `register()` fails naming the variable.
 * Returns nothing when the variable is unset or empty.
 */
export function guardStoreFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  fromDirectories: readonly string[] = [dirname(fileURLToPath(import.meta.url)), process.cwd()],
): Pick<GuardConfig, 'ledger' | 'limiter'> | undefined {
  const url = env.TOLLGATE_REDIS_URL?.trim();
  if (!url) return undefined;
  for (const directory of fromDirectories) {
    const entry = findInstalledPackage('@tollgate/redis', directory)?.entry('require');
    if (!entry) continue;
    const redis = localRequire(entry) as {
      createRedisGuardStore(options: { url: string }): Pick<GuardConfig, 'ledger' | 'limiter'>;
    };
    return redis.createRedisGuardStore({ url });
  }
  throw new TollgateConfigError(
    'TOLLGATE_REDIS_URL',
    'shares budgets and rate limits through Redis, which needs the package @tollgate/redis: install it (npm i @tollgate/redis ioredis)',
    url,
  );
}
