import type { Fault } from '../faults';
import type { MockEndpoint, MockProviderName } from '../served-request';

interface QueuedFault {
  fault: Fault;
  remaining: number;
}

/** The request a fault is matched against. */
export interface FaultCandidate {
  provider: MockProviderName;
  endpoint: MockEndpoint;
  model: string;
  stream: boolean;
}

/** Injected faults, matched first-in first-out, each used up after `times` matches. */
export class FaultQueue {
  #queue: QueuedFault[] = [];

  add(fault: Fault): void {
    validateFault(fault);
    this.#queue.push({ fault, remaining: fault.times ?? 1 });
  }

  /** Takes one use of the first fault that applies to `request`, if any. */
  take(request: FaultCandidate): Fault | undefined {
    if (this.#queue.length === 0) return undefined;
    for (let index = 0; index < this.#queue.length; index++) {
      const queued = this.#queue[index]!;
      if (!applies(queued.fault, request)) continue;
      queued.remaining--;
      if (queued.remaining <= 0) this.#queue.splice(index, 1);
      return queued.fault;
    }
    return undefined;
  }

  get size(): number {
    return this.#queue.length;
  }

  clear(): void {
    this.#queue = [];
  }
}

function applies(fault: Fault, request: FaultCandidate): boolean {
  if (fault.provider !== undefined && fault.provider !== request.provider) return false;
  if (fault.endpoint !== undefined && fault.endpoint !== request.endpoint) return false;
  if (fault.model !== undefined && fault.model !== request.model) return false;
  if ('kind' in fault) {
    // Only a stream can be cut mid-stream; count_tokens reports no usage to spoil.
    if (fault.kind === 'disconnect-mid-stream') return request.stream;
    return request.endpoint !== 'messages.count_tokens' && request.endpoint !== 'count_tokens';
  }
  return true;
}

function validateFault(fault: Fault): void {
  if (typeof fault !== 'object' || fault === null)
    throw new TypeError('mock-provider: a fault must be an object');
  const times = fault.times ?? 1;
  if (!(times >= 1) || (!Number.isInteger(times) && times !== Number.POSITIVE_INFINITY)) {
    throw new RangeError(
      `mock-provider: fault.times must be a whole number >= 1 or Infinity, got ${String(fault.times)}`,
    );
  }
  if (fault.delayMillis !== undefined && !(fault.delayMillis >= 0 && Number.isFinite(fault.delayMillis))) {
    throw new RangeError(
      `mock-provider: fault.delayMillis must be a finite number >= 0, got ${fault.delayMillis}`,
    );
  }
  if ('kind' in fault) {
    if (fault.kind === 'disconnect-mid-stream') {
      if (!Number.isSafeInteger(fault.afterChunks) || fault.afterChunks < 0) {
        throw new RangeError(
          `mock-provider: afterChunks must be a whole number >= 0, got ${String(fault.afterChunks)}`,
        );
      }
    } else if (fault.kind !== 'malformed-usage') {
      throw new TypeError(`mock-provider: unknown fault kind ${String((fault as { kind: unknown }).kind)}`);
    }
    return;
  }
  if (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599) {
    throw new RangeError(
      `mock-provider: fault.status must be an HTTP error status, got ${String(fault.status)}`,
    );
  }
  for (const field of ['retryAfterSeconds', 'retryAfterMs'] as const) {
    const value = fault[field];
    if (value !== undefined && !(value >= 0 && Number.isFinite(value))) {
      throw new RangeError(`mock-provider: fault.${field} must be a finite number >= 0, got ${value}`);
    }
  }
}
