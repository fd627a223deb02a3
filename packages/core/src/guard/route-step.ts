import type { LineState } from '../budgets/budget-ledger';
import type { PlannedLine } from '../budgets/budget-plan';
import type { LlmCallDescriptor } from '../call/llm-call';
import { CircuitOpenError } from '../errors/circuit-open-error';
import { isRefusal, reportRefusal } from '../events/refusals';
import type { DegradationDecision } from '../policies/degradation';
import type { CallScope } from '../scope/scope';
import { refuseOverBudget } from './budget-refusal';
import { passCircuit, releaseProbe } from './circuit-step';
import type { GuardRuntime } from './guard-runtime';
import { type PlannedCall, planCall } from './planned-call';

/** Where a routing rule sent a call: the call as it now goes out, planned, with the budget lines it reserves. */
export interface RoutedCall {
  call: LlmCallDescriptor;
  planned: PlannedCall;
  /** The call is a half-open probe of its (new) model's circuit. */
  probe: boolean;
  lines: PlannedLine[];
}

/** The requested call as the rules step found it: planned, its circuit entered (or found open). */
export interface RequestedCall {
  call: LlmCallDescriptor;
  planned: PlannedCall;
  probe: boolean;
  circuitOpen: CircuitOpenError | undefined;
  callId: string;
  scope: Readonly<CallScope>;
}

type RoutingDecision = Extract<DegradationDecision, { action: 'fallback' | 'cheapest' }>;

/**
 * The routing step: moves the call to the model a `fallback` or `cheapest` rule chose,
 * re-estimated at that model's price (its provider's price entry and tokenizer), its circuit
 * entered and its budget lines planned for the reservation (a `cheapest` rule also reads its
 * candidates' budgets to choose). The requested model's probe slot, if any, goes back when the
 * call leaves it.
 */
export async function routeCall(
  runtime: GuardRuntime,
  requested: RequestedCall,
  decision: RoutingDecision,
): Promise<RoutedCall> {
  if (decision.action === 'fallback') {
    releaseProbe(runtime, requested.planned, requested.probe);
    const call = substituteCall(requested.call, decision.toProvider, decision.toModel);
    const planned = planCall(runtime, call, requested.callId, requested.scope);
    const probe = passCircuit(runtime, planned);
    reportRoute(runtime, requested.call, planned, decision.rule.id, {
      trigger: decision.trigger,
      budgetId: decision.rule.when.budget,
      usedRatio: decision.usedRatio,
    });
    // No read here: the reservation that follows decides whether the new model's budgets have room.
    return { call, planned, probe, lines: budgetLines(runtime, planned) };
  }
  return chooseCheapest(runtime, requested, decision);
}

/** One listed model weighed by a `cheapest` rule, and why it could not take the call. */
interface Candidate {
  call: LlmCallDescriptor;
  planned: PlannedCall | undefined;
  isRequested: boolean;
  lines: PlannedLine[];
  states: readonly LineState[];
  refusal: (() => Error) | undefined;
}

/**
 * A `cheapest` rule: every candidate is estimated, all their budgets are read in one peek, and
 * the cheapest worst case with room in its budgets and a circuit that is not open wins (ties by
 * list order; an unpriced candidate ranks last). Circuits are entered in cost order, so only the
 * winner takes a half-open probe slot. With no winner, the call is refused as the list's first
 * candidate would have been.
 */
async function chooseCheapest(
  runtime: GuardRuntime,
  requested: RequestedCall,
  decision: Extract<RoutingDecision, { action: 'cheapest' }>,
): Promise<RoutedCall> {
  const candidates: Candidate[] = decision.candidates.map(({ provider, model }) => {
    const isRequested =
      provider === requested.call.provider &&
      runtime.canonicalModel(model, provider) === requested.planned.subject.model;
    // The requested model goes out as the caller named it (a dated snapshot stays dated).
    const call = isRequested ? requested.call : substituteCall(requested.call, provider, model);
    const candidate: Candidate = {
      call,
      planned: undefined,
      isRequested,
      lines: [],
      states: [],
      refusal: undefined,
    };
    try {
      candidate.planned = isRequested
        ? requested.planned
        : planCall(runtime, call, requested.callId, requested.scope, true);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      // Planned again, loudly, only if this candidate's refusal is the one the caller gets.
      candidate.refusal = () => {
        planCall(runtime, call, requested.callId, requested.scope);
        return error;
      };
    }
    return candidate;
  });

  const all = candidates.flatMap((candidate) => {
    const { planned } = candidate;
    if (!planned || planned.budgets.length === 0) return [];
    candidate.lines = runtime.plan.lines(
      planned.budgets,
      planned.subject,
      planned.amounts,
      runtime.ledger.now(),
    );
    return candidate.lines;
  });
  const states = all.length > 0 ? await runtime.ledger.peek(all.map((planned) => planned.line)) : [];
  let offset = 0;
  for (const candidate of candidates) {
    candidate.states = states.slice(offset, offset + candidate.lines.length);
    offset += candidate.lines.length;
  }

  const byCost = candidates
    .map((candidate, index) => ({ candidate, index, cost: candidate.planned?.estimate.worstCaseUsd }))
    .sort(
      (a, b) =>
        (a.cost ?? Number.POSITIVE_INFINITY) - (b.cost ?? Number.POSITIVE_INFINITY) || a.index - b.index,
    );
  for (const { candidate } of byCost) {
    const { planned } = candidate;
    if (!planned || candidate.refusal) continue;
    const full = candidate.states.findIndex(
      (state, index) => state.spent + state.reserved + candidate.lines[index]!.line.amount > state.limit,
    );
    if (full >= 0) {
      // As in admission, an open circuit is the refusal before a full budget.
      candidate.refusal = () => {
        const circuit = enterCandidateCircuit(runtime, requested, candidate, planned);
        if (circuit.refusal) return circuit.refusal();
        if (!candidate.isRequested) releaseProbe(runtime, planned, circuit.probe);
        return refuseOverBudget(runtime, planned, candidate.lines[full]!, candidate.states[full]!);
      };
      continue;
    }
    const circuit = enterCandidateCircuit(runtime, requested, candidate, planned);
    if (circuit.refusal) {
      candidate.refusal = circuit.refusal;
      continue;
    }
    if (!candidate.isRequested) {
      releaseProbe(runtime, requested.planned, requested.probe);
      reportRoute(runtime, requested.call, planned, decision.rule.id, {
        trigger: 'cheapest',
        budgetId: decision.rule.when?.budget,
        usedRatio: undefined,
      });
    }
    return {
      call: candidate.call,
      planned,
      probe: circuit.probe,
      lines: candidate.lines,
    };
  }

  releaseProbe(runtime, requested.planned, requested.probe);
  // Every candidate was weighed and refused, and the list holds at least the requested model.
  throw candidates[0]!.refusal!();
}

/** A candidate's circuit: the requested model's was entered already; another's is entered now. */
function enterCandidateCircuit(
  runtime: GuardRuntime,
  requested: RequestedCall,
  candidate: Candidate,
  planned: PlannedCall,
): { probe: boolean; refusal: (() => Error) | undefined } {
  if (candidate.isRequested) {
    const open = requested.circuitOpen;
    return open
      ? { probe: false, refusal: () => reportRefusal(runtime.events, planned.base, open) }
      : { probe: requested.probe, refusal: undefined };
  }
  try {
    return {
      probe: runtime.breakers.admit(planned.subject.provider, planned.subject.model),
      refusal: undefined,
    };
  } catch (error) {
    if (!CircuitOpenError.isInstance(error)) throw error;
    return { probe: false, refusal: () => reportRefusal(runtime.events, planned.base, error) };
  }
}

/** The call as it goes to another model, possibly at another provider; the body names the new model. */
function substituteCall(call: LlmCallDescriptor, provider: string, model: string): LlmCallDescriptor {
  return { ...call, provider, model, body: { ...call.body, model } };
}

function budgetLines(runtime: GuardRuntime, planned: PlannedCall): PlannedLine[] {
  if (planned.budgets.length === 0) return [];
  return runtime.plan.lines(planned.budgets, planned.subject, planned.amounts, runtime.ledger.now());
}

/** The `model-fallback` event: which rule moved the call, from where to where, at the new model's estimate. */
function reportRoute(
  runtime: GuardRuntime,
  from: LlmCallDescriptor,
  planned: PlannedCall,
  ruleId: string,
  why: {
    trigger: 'budget' | 'circuit-open' | 'cheapest';
    budgetId: string | undefined;
    usedRatio: number | undefined;
  },
): void {
  runtime.events.emit({
    ...planned.base,
    type: 'model-fallback',
    ruleId,
    fromModel: from.model,
    toModel: planned.base.model,
    fromProvider: from.provider,
    toProvider: planned.base.provider,
    ...why,
  });
}
