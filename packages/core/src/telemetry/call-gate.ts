import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  diag,
  type Meter,
  type Span,
  SpanKind,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { refusalSpanFacts } from '../events/refusals';
import type { Admission, CacheLookup, CallOptions, Guard } from '../guard/guard';
import { genAiOperationName } from '../request-shapes/request-shape-registry';
import { currentScope } from '../scope/with-scope';
import { attributesKey } from './accumulated-counter';
import { GateMetrics } from './gate-metrics';
import type { GatedRequest } from './gated-request';
import { GuardedCall } from './guarded-call';
import * as semconv from './semconv';
import { markFailed, setRefusalAttributes } from './span-outcome';

/** A call's span, just started, and the attributes its metrics carry. */
interface OpenedSpan {
  span: Span;
  spanContext: Context;
  attributes: Attributes;
  metricAttributes: Attributes;
  gateAttributes: Attributes;
}

const CONTEXT_PROBE = createContextKey('tollgate.context-probe');

/**
 * The gate/span/metric lifecycle shared by every provider instrumentation: one
 * `CallGate` per instrumentation, one `GuardedCall` per provider call.
 */
export class CallGate {
  readonly metrics: GateMetrics;
  private contextWorks: boolean | undefined;

  /**
   * @param replaysFetch Whether the SDK's HTTP requests pass a Tollgate hook where a response
   *   cache hit is replayed (`observeAttempts`, `replayAttempts`); asked at each call, since an
   *   SDK's hook may be installed late. Without it the cache is not consulted.
   */
  constructor(
    readonly guard: Guard,
    private readonly tracer: Tracer,
    meter: Meter,
    private readonly replaysFetch: () => boolean = () => false,
  ) {
    this.metrics = new GateMetrics(meter, guard);
  }

  /**
   * Opens the call's CLIENT span and admits the call through the guard. A refused call
   * gets a span that records the decision and the error, ended at once, and the typed
   * error is rethrown: the request is never sent.
   */
  begin(
    request: GatedRequest,
    parent: Context = context.active(),
    options?: CallOptions,
  ): Promise<GuardedCall> {
    try {
      const pending = this.lookUp(request, options);
      // Without a cache lookup the call goes straight to admission: no promise of its own.
      if (pending === undefined) return this.admit(request, parent, options, undefined);
      return pending.then((lookup) => this.admit(request, parent, options, lookup));
    } catch (error) {
      // Callers get every failure as a rejection, as from an async function.
      return Promise.reject(error);
    }
  }

  private admit(
    request: GatedRequest,
    parent: Context,
    options: CallOptions | undefined,
    lookup: CacheLookup | undefined,
  ): Promise<GuardedCall> {
    const opened = this.openSpan(request, parent, options, lookup);
    const { span, spanContext, gateAttributes } = opened;
    if (lookup) {
      const hit = lookup.reply ? this.answerFromCache(lookup, opened, request) : undefined;
      this.metrics.cacheRequests.add(
        1,
        attributesKey(gateAttributes),
        gateAttributes,
        semconv.ATTR_TOLLGATE_CACHE_RESULT,
        hit ? 'hit' : 'miss',
      );
      if (hit) return Promise.resolve(hit);
      // The span opened as a hit; a stored reply the gate could not replay makes it a miss.
      if (lookup.reply) span.setAttribute(semconv.ATTR_TOLLGATE_CACHE_HIT, false);
    }
    let admitting: Promise<Admission>;
    try {
      admitting = context.with(spanContext, () => this.guard.admit(request.descriptor, options));
    } catch (error) {
      this.refused(span, gateAttributes, options, error);
      return Promise.reject(error);
    }
    // One reaction for either outcome: an async function would add its own promise and an await's.
    return admitting.then(
      (admission) => this.admitted(request, admission, opened, lookup),
      (error: unknown) => {
        this.refused(span, gateAttributes, options, error);
        throw error;
      },
    );
  }

  /** A refused call: its span records the decision and the error, and ends. */
  private refused(
    span: Span,
    gateAttributes: Attributes,
    options: CallOptions | undefined,
    error: unknown,
  ): void {
    const refusal = refusalSpanFacts(error);
    const decision = options?.signal?.aborted ? 'aborted' : refusal.decision;
    span.setAttribute(semconv.ATTR_TOLLGATE_GATE_DECISION, decision);
    setRefusalAttributes(span, refusal);
    markFailed(span, error);
    span.end();
    // A refusal by a named rule (a policy, a loop rule) is counted per rule: alerts say which one fired.
    const refusalAttributes =
      refusal.ruleId === undefined
        ? gateAttributes
        : { ...gateAttributes, [semconv.ATTR_TOLLGATE_POLICY_RULE]: refusal.ruleId };
    this.metrics.decisions.add(
      1,
      attributesKey(refusalAttributes),
      refusalAttributes,
      semconv.ATTR_TOLLGATE_GATE_DECISION,
      decision,
    );
  }

  /** An admitted call: its span records what the gate decided and estimated. */
  private admitted(
    request: GatedRequest,
    admission: Admission,
    opened: OpenedSpan,
    lookup: CacheLookup | undefined,
  ): GuardedCall {
    const { descriptor } = request;
    const { span, attributes, metricAttributes, gateAttributes } = opened;
    const { estimate } = admission;
    if (admission.model !== descriptor.model || admission.provider !== descriptor.provider) {
      // A routing rule chose another model: the span describes what is actually sent.
      span.updateName(`${attributes[semconv.ATTR_GEN_AI_OPERATION_NAME]} ${admission.model}`);
      span.setAttribute(semconv.ATTR_GEN_AI_REQUEST_MODEL, admission.model);
      span.setAttribute(semconv.ATTR_TOLLGATE_FALLBACK_FROM_MODEL, descriptor.model);
      metricAttributes[semconv.ATTR_GEN_AI_REQUEST_MODEL] = admission.model;
      gateAttributes[semconv.ATTR_GEN_AI_REQUEST_MODEL] = admission.model;
      if (admission.provider !== descriptor.provider) {
        span.setAttribute(semconv.ATTR_GEN_AI_PROVIDER_NAME, admission.provider);
        span.setAttribute(semconv.ATTR_TOLLGATE_FALLBACK_FROM_PROVIDER, descriptor.provider);
        metricAttributes[semconv.ATTR_GEN_AI_PROVIDER_NAME] = admission.provider;
        gateAttributes[semconv.ATTR_GEN_AI_PROVIDER_NAME] = admission.provider;
      }
    }
    const gateKey = attributesKey(gateAttributes);
    span.setAttributes({
      [semconv.ATTR_TOLLGATE_GATE_DECISION]: 'allowed',
      [semconv.ATTR_TOLLGATE_GATE_WAIT_MS]: admission.waitMillis,
      [semconv.ATTR_TOLLGATE_ESTIMATE_INPUT_TOKENS]: estimate.estimatedInputTokens,
      [semconv.ATTR_TOLLGATE_ESTIMATE_METHOD]: estimate.estimateMethod,
      [semconv.ATTR_TOLLGATE_ESTIMATE_MAX_OUTPUT_TOKENS]: estimate.maxOutputTokens,
      [semconv.ATTR_TOLLGATE_PRICE_CHECKED_AT]: this.guard.prices.checkedAt,
    });
    if (estimate.requestOutputCap !== undefined)
      span.setAttribute(semconv.ATTR_GEN_AI_REQUEST_MAX_TOKENS, estimate.requestOutputCap);
    if (estimate.choices > 1) span.setAttribute(semconv.ATTR_GEN_AI_REQUEST_CHOICE_COUNT, estimate.choices);
    if (estimate.pricedModel) span.setAttribute(semconv.ATTR_TOLLGATE_PRICE_MODEL, estimate.pricedModel);
    if (estimate.worstCaseUsd !== undefined) {
      span.setAttribute(semconv.ATTR_TOLLGATE_COST_ESTIMATED_USD, estimate.worstCaseUsd);
      this.metrics.cost.add(
        estimate.worstCaseUsd,
        gateKey,
        gateAttributes,
        semconv.ATTR_TOLLGATE_COST_KIND,
        'estimated',
      );
    }
    const budgetIds = admission.budgetIds;
    // A fresh array on every read, so the span may keep it.
    if (budgetIds.length > 0) span.setAttribute(semconv.ATTR_TOLLGATE_BUDGET_IDS, budgetIds as string[]);
    if (admission.limiterKeys.length > 0)
      span.setAttribute(semconv.ATTR_TOLLGATE_GATE_LIMITERS, [...admission.limiterKeys]);
    if (admission.minHeadroomRatio !== undefined)
      span.setAttribute(semconv.ATTR_TOLLGATE_BUDGET_MIN_HEADROOM_RATIO, admission.minHeadroomRatio);
    this.metrics.decisions.add(1, gateKey, gateAttributes, semconv.ATTR_TOLLGATE_GATE_DECISION, 'allowed');
    this.metrics.waitDuration.record(admission.waitMillis / 1000, gateAttributes);
    const call = this.callFor(request, admission, opened, gateKey);
    if (lookup) call.recordForCache(lookup);
    return call;
  }

  /** The guarded call for an admission; its operation starts now, so time queued at the gate is tollgate.gate.wait.duration. */
  private callFor(
    request: GatedRequest,
    admission: Admission,
    opened: OpenedSpan,
    gateKey: string,
  ): GuardedCall {
    const { span, spanContext, metricAttributes, gateAttributes } = opened;
    return new GuardedCall(
      this,
      admission,
      span,
      spanContext,
      request,
      metricAttributes,
      gateAttributes,
      gateKey,
      performance.now(),
    );
  }

  /** Starts the call's CLIENT span with every attribute known before admission. */
  private openSpan(
    request: GatedRequest,
    parent: Context,
    options: CallOptions | undefined,
    lookup: CacheLookup | undefined,
  ): OpenedSpan {
    const { descriptor } = request;
    const attributes: Attributes = {
      [semconv.ATTR_GEN_AI_PROVIDER_NAME]: descriptor.provider,
      [semconv.ATTR_GEN_AI_OPERATION_NAME]: genAiOperationName(descriptor),
      [semconv.ATTR_GEN_AI_REQUEST_MODEL]: descriptor.model,
    };
    if (request.serverAddress) attributes[semconv.ATTR_SERVER_ADDRESS] = request.serverAddress;
    if (request.serverPort) attributes[semconv.ATTR_SERVER_PORT] = request.serverPort;
    // The GenAI histograms carry the endpoint, as the conventions ask. Tollgate's own counters
    // carry what budgets and alerts group by instead: provider, operation, model and the
    // scope dimensions budgets are split by (e.g. spend per tenant). Fewer attributes per
    // record is less hashing in the metrics SDK, which is a real share of a call's cost.
    const metricAttributes = { ...attributes };
    const gateAttributes: Attributes = {
      [semconv.ATTR_GEN_AI_PROVIDER_NAME]: attributes[semconv.ATTR_GEN_AI_PROVIDER_NAME],
      [semconv.ATTR_GEN_AI_OPERATION_NAME]: attributes[semconv.ATTR_GEN_AI_OPERATION_NAME],
      [semconv.ATTR_GEN_AI_REQUEST_MODEL]: descriptor.model,
    };
    const scope = options?.scope ? { ...currentScope(), ...options.scope } : currentScope();
    for (const dimension of this.guard.splitDimensions) {
      const value = scope[dimension as 'tenant' | 'user' | 'feature'];
      if (value === undefined) continue;
      gateAttributes[`tollgate.${dimension}`] = value;
      // The span starts with every attribute known now: one pass in the SDK instead of a second call.
      attributes[`tollgate.${dimension}`] = value;
    }
    if (lookup) attributes[semconv.ATTR_TOLLGATE_CACHE_HIT] = lookup.reply !== undefined;
    const span = this.tracer.startSpan(
      `${attributes[semconv.ATTR_GEN_AI_OPERATION_NAME]} ${descriptor.model}`,
      { kind: SpanKind.CLIENT, attributes },
      parent,
    );
    const spanContext = trace.setSpan(parent, span);
    this.hasContextManager();
    return { span, spanContext, attributes, metricAttributes, gateAttributes };
  }

  /**
   * The response cache's answer for a call, when the cache applies to it and a hit can be replayed:
   * only through the SDK's per-attempt fetch hook, reached through the active context.
   */
  private lookUp(request: GatedRequest, options: CallOptions | undefined): Promise<CacheLookup> | undefined {
    if (request.cacheable === false || !this.guard.lookupCache || !this.replaysFetch()) return undefined;
    if (!this.hasContextManager()) return undefined;
    const { descriptor } = request;
    return this.guard.lookupCache(
      {
        call: descriptor,
        keyBody: request.cacheKeyBody,
        serverAddress: request.serverAddress,
        serverPort: request.serverPort,
      },
      options,
    );
  }

  /** The call for a hit: nothing reserved, the stored reply replayed to the SDK. Undefined when the body cannot be estimated (the gate then refuses it in its own words). */
  private answerFromCache(
    lookup: CacheLookup,
    opened: OpenedSpan,
    request: GatedRequest,
  ): GuardedCall | undefined {
    let admission: Admission;
    try {
      admission = lookup.hitAdmission();
    } catch {
      return undefined;
    }
    const call = this.callFor(request, admission, opened, attributesKey(opened.gateAttributes));
    call.replay(lookup.reply!);
    return call;
  }

  /** Whether a context manager carries the call to the SDK's HTTP attempts; warns once when none does. */
  private hasContextManager(): boolean {
    if (this.contextWorks !== undefined) return this.contextWorks;
    const probe = context.active().setValue(CONTEXT_PROBE, true);
    this.contextWorks = context.with(probe, () => context.active()) === probe;
    if (!this.contextWorks) {
      const message =
        'tollgate: no OpenTelemetry context manager is registered, so each HTTP attempt cannot be tied to its call: ' +
        'provider 429 retry-after and rate-limit headers do not reach the limiter, tollgate.attempts / tollgate.provider.* stay empty, ' +
        'and the response cache is off. Register one (the NodeSDK and @tollgate/node do it for you).';
      diag.warn(message);
      process.emitWarning(message, { code: 'TOLLGATE_NO_CONTEXT_MANAGER' });
    }
    return this.contextWorks;
  }
}
