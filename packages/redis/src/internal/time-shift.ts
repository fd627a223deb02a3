/**
 * Moves a Redis ledger's script clock forward (Redis `TIME` plus the shift). Only tests use
 * it, to let leases and rolling windows pass without sleeping; it is not exported.
 */
export const TIME_SHIFT: unique symbol = Symbol('tollgate.redis.timeShift');
