import { diag } from '@opentelemetry/api';

/** Codes of the process warnings Tollgate emits; `process.on('warning')` can switch on them. */
export type TollgateWarningCode =
  | 'TOLLGATE_UNSUPPORTED_SDK_VERSION'
  | 'TOLLGATE_SDK_NOT_RECOGNISED'
  | 'TOLLGATE_OTHER_INSTRUMENTATION'
  | 'TOLLGATE_NO_GUARD'
  | 'TOLLGATE_SDK_PATCHED_LATE'
  | 'TOLLGATE_SDK_NOT_PATCHABLE'
  | 'TOLLGATE_UNGATED_CALL';

/** Shared by every copy of core (ESM and CommonJS builds) so a warning is emitted once per process. */
const EMITTED = Symbol.for('tollgate.process-warnings.emitted');
const shared = globalThis as Record<symbol, Set<string> | undefined>;
shared[EMITTED] ??= new Set<string>();
const emitted = shared[EMITTED];

/**
 * Emits `message` as a Node process warning with `code`, once per process for the same code and
 * `onceKey` (the message itself by default), and logs it through `diag` too. A process warning
 * is printed by default, where `diag` prints nothing until a logger is set: a setup that leaves
 * calls ungated, or that records every call twice, must not go unnoticed.
 */
export function emitTollgateWarning(code: TollgateWarningCode, message: string, onceKey = message): void {
  const key = `${code}\0${onceKey}`;
  if (emitted.has(key)) return;
  emitted.add(key);
  diag.warn(message);
  if (typeof process !== 'undefined' && typeof process.emitWarning === 'function') {
    process.emitWarning(message, { code });
  }
}
