import { randomUUID } from 'node:crypto';

/** Random per process, so ids from processes sharing one ledger never meet. */
const PROCESS_PREFIX = randomUUID();
let issued = 0;

/**
 * A new call's id, which is also its reservation id in the ledger: unique across processes
 * and restarts, and cheaper than a UUID per call.
 */
export function newCallId(): string {
  issued += 1;
  return `${PROCESS_PREFIX}.${issued.toString(36)}`;
}
