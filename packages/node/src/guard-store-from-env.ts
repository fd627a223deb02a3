import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type GuardConfig, type LeaseExpiryPolicy, TollgateConfigError } from '@tollgate/core';
import { findInstalledPackage } from './installed-package';

const localRequire = createRequire(import.meta.url);

/**
 * With `TOLLGATE_REDIS_URL` set, budgets and rate limits live in Redis, shared by every
 * replica: the zero-code path (`--import @tollgate/node/register`) has no other way to say so,
 * and without it each replica would silently enforce a budget of its own. Needs
 * `@tollgate/redis` installed next to the app (found as Node finds a package, from Tollgate's
 * directory and then the app's); when it is missing, `register()` fails naming the variable.
 * The store's ledger takes the config's `leaseExpiry`, since the guard refuses a ledger whose
 * policy differs from its own. Returns nothing when the variable is unset or empty.
 */
export function guardStoreFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  fromDirectories: readonly string[] = [dirname(fileURLToPath(import.meta.url)), process.cwd()],
  leaseExpiry?: LeaseExpiryPolicy,
): Pick<GuardConfig, 'ledger' | 'limiter'> | undefined {
  const url = env.TOLLGATE_REDIS_URL?.trim();
  if (!url) return undefined;
  for (const directory of fromDirectories) {
    const entry = findInstalledPackage('@tollgate/redis', directory)?.entry('require');
    if (!entry) continue;
    const redis = localRequire(entry) as {
      createRedisGuardStore(options: {
        url: string;
        leaseExpiry?: LeaseExpiryPolicy;
      }): Pick<GuardConfig, 'ledger' | 'limiter'>;
    };
    return redis.createRedisGuardStore(leaseExpiry === undefined ? { url } : { url, leaseExpiry });
  }
  throw new TollgateConfigError(
    'TOLLGATE_REDIS_URL',
    'shares budgets and rate limits through Redis, which needs the package @tollgate/redis: install it (npm i @tollgate/redis ioredis)',
    url,
  );
}
