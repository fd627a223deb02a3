/** Codes of the process warnings Tollgate's node package emits (`process.on('warning')`, `--no-warnings`). */
export type TollgateWarningCode =
  | 'TOLLGATE_SDK_PATCHED_LATE'
  | 'TOLLGATE_SDK_UNSUPPORTED'
  | 'TOLLGATE_SDK_NOT_PATCHABLE'
  | 'TOLLGATE_UNGATED_CALL';

// Shared by every copy of this package in the process (ESM, CommonJS, the --import bundle), so each warning prints once.
const EMITTED_KEY = Symbol.for('tollgate.node.emitted-warnings.v1');

/**
 * Emits a process warning once per `key`: unlike `diag`, it prints by default, so a call that
 * is not gated is never silent.
 */
export function warnOnce(code: TollgateWarningCode, key: string, message: string): void {
  const registry = globalThis as Record<symbol, Set<string> | undefined>;
  registry[EMITTED_KEY] ??= new Set<string>();
  const emitted = registry[EMITTED_KEY];
  if (emitted.has(`${code}:${key}`)) return;
  emitted.add(`${code}:${key}`);
  process.emitWarning(message, { code });
}
