import { type Context, context, createContextKey } from '@opentelemetry/api';
import type { GuardedCall } from './call-gate';

const GUARDED_CALL_KEY = createContextKey('tollgate.guarded-call');

/** A context carrying `call`, so code deeper in the SDK (each HTTP attempt) can find the call it belongs to. */
export function withGuardedCall(parent: Context, call: GuardedCall): Context {
  return parent.setValue(GUARDED_CALL_KEY, call);
}

/** The guarded call whose request is being made in the active context, if any. */
export function activeGuardedCall(): GuardedCall | undefined {
  return context.active().getValue(GUARDED_CALL_KEY) as GuardedCall | undefined;
}
