import Bottleneck from 'bottleneck';
import type { LocalLimiterStore } from './limiter-store';

/**
 * `reservoir = min(reservoir, ceiling)` on a process-local bottleneck, in one synchronous step.
 * bottleneck offers no conditional update, and its own calls each yield to the event loop
 * between a read and a write; its local store keeps the reservoir in `storeOptions`.
 */
function capLocalReservoir(limiter: Bottleneck, ceiling: number): undefined {
  const store = (limiter as unknown as { _store?: { storeOptions?: { reservoir?: number | null } } })._store;
  const options = store?.storeOptions;
  if (!options || typeof options.reservoir !== 'number') {
    throw new Error('bottleneck local store has no numeric reservoir (unsupported bottleneck version?)');
  }
  if (ceiling < options.reservoir) options.reservoir = ceiling;
  return undefined;
}

/** The default store: buckets in this process's memory, one plain bottleneck instance each. */
export const memoryLimiterStore: LocalLimiterStore = Object.freeze<LocalLimiterStore>({
  shared: false,
  createLimiter: (_bucket, options) => new Bottleneck(options),
  capReservoir: capLocalReservoir,
});
