import {
  type Attributes,
  type Context,
  context,
  diag,
  type Meter,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { LlmCallDescriptor } from '../call/llm-call';
import type { UsageSource } from '../events/decision-events';
import { type RefusalSpanFacts, refusalSpanFacts } from '../events/refusals';
import type { Admission, CallOptions, Guard } from '../guard/guard';
import { parseRateLimitHeaders } from '../limits/provider-feedback';
import type { CallFailure } from '../policies/circuit-breaker';
import { classifyFailure } from '../policies/classify-failure';
import type { TokenUsage } from '../pricing/token-usage';
import { genAiOperationName } from '../request-shapes/request-shape-registry';
import { currentScope } from '../scope/with-scope';
import { attributesKey } from './accumulated-counter';
import { type ActiveCall, withActiveCall } from './active-call';
import { GateMetrics } from './gate-metrics';
import * as semconv from './semconv';

/** A provider call as an instrumentation sees it, before it is sent. */
export interface GatedRequest {
  descriptor: LlmCallDescriptor;
  /** Host of the endpoint, for `server.address`. */
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
  streaming: boolean;
}

/** What the response said about itself. */
export interface ResponseDetails {
  id?: string | undefined;
  model?: string | undefined;
  finishReasons?: readonly string[] | undefined;
}

/**
 * The gate/span/metric lifecycle shared by every provider instrumentation: one
 * `CallGate` per instrumentation, one `GuardedCall` per provider call.
 */
export class CallGate {
  readonly metrics: GateMetrics;
  private contextChecked = false;

  constructor(
    readonly guard: Guard,
    private readonly tracer: Tracer,
    meter: Meter,
  ) {
    this.metrics = new GateMetrics(meter, guard);
  }

  /**
   * Opens the call's CLIENT span and admits the call through the guard. A refused call
   * gets a span that records the decision and the error, ended at once, and the typed
   * error is rethrown: the request is never sent.
   */
  async begin(
    request: GatedRequest,
    parent: Context = context.active(),
    options?: CallOptions,
  ): Promise<GuardedCall> {
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
    const span = this.tracer.startSpan(
      `${attributes[semconv.ATTR_GEN_AI_OPERATION_NAME]} ${descriptor.model}`,
      { kind: SpanKind.CLIENT, attributes },
      parent,
    );
    const spanContext = trace.setSpan(parent, span);
    if (!this.contextChecked) {
      this.contextChecked = true;
      if (context.with(spanContext, () => context.active()) !== spanContext) {
        const message =
          'tollgate: no OpenTelemetry context manager is registered, so each HTTP attempt cannot be tied to its call: ' +
          'provider 429 retry-after and rate-limit headers do not reach the limiter, and tollgate.attempts / tollgate.provider.* stay empty. ' +
          'Register one (the NodeSDK and @tollgate/node do it for you).';
        diag.warn(message);
        process.emitWarning(message, { code: 'TOLLGATE_NO_CONTEXT_MANAGER' });
      }
    }
    let admission: Admission;
    try {
      admission = await context.with(spanContext, () => this.guard.admit(descriptor, options));
    } catch (error) {
      const refusal = refusalSpanFacts(error);
      const decision = options?.signal?.aborted ? 'aborted' : refusal.decision;
      span.setAttribute(semconv.ATTR_TOLLGATE_GATE_DECISION, decision);
      setRefusalAttributes(span, refusal);
      markFailed(span, error);
      span.end();
      this.metrics.decisions.add(
        1,
        attributesKey(gateAttributes),
        gateAttributes,
        semconv.ATTR_TOLLGATE_GATE_DECISION,
        decision,
      );
      throw error;
    }

    const { estimate } = admission;
    if (admission.model !== descriptor.model) {
      // A fallback rule chose a cheaper model: the span describes what is actually sent.
      span.updateName(`${attributes[semconv.ATTR_GEN_AI_OPERATION_NAME]} ${admission.model}`);
      span.setAttribute(semconv.ATTR_GEN_AI_REQUEST_MODEL, admission.model);
      span.setAttribute(semconv.ATTR_TOLLGATE_FALLBACK_FROM_MODEL, descriptor.model);
      metricAttributes[semconv.ATTR_GEN_AI_REQUEST_MODEL] = admission.model;
      gateAttributes[semconv.ATTR_GEN_AI_REQUEST_MODEL] = admission.model;
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
    return new GuardedCall(
      this,
      admission,
      span,
      spanContext,
      request,
      metricAttributes,
      gateAttributes,
      gateKey,
      // The operation starts once admitted: time queued at the gate is tollgate.gate.wait.duration.
      performance.now(),
    );
  }
}

/**
 * One admitted provider call. Ends exactly once — `complete()` or `fail()`, whichever
 * comes first — settling or releasing the reservation and ending the span.
 */
export class GuardedCall implements ActiveCall {
  private ended = false;
  private attempts = 0;
  private firstChunkSeen = false;
  private responseModel: string | undefined;

  constructor(
    private readonly gate: CallGate,
    readonly admission: Admission,
    readonly span: Span,
    spanContext: Context,
    private readonly request: GatedRequest,
    private readonly metricAttributes: Attributes,
    /** Attributes of Tollgate's own counters: provider, operation, model and the split scope dimensions. */
    private readonly gateAttributes: Attributes,
    /** `attributesKey(gateAttributes)`, computed once per call. */
    private readonly gateKey: string,
    /** When the call was admitted: the provider operation's durations count from here. */
    private readonly startedAt: number,
  ) {
    this.context = withActiveCall(spanContext, this);
  }

  /** Context with this call's span active and the call itself attached: run the SDK's request in it. */
  readonly context: Context;

  /** One HTTP attempt finished (the SDK may retry): counts it by status and feeds rate-limit headers back to the limiter. */
  recordAttempt(headers: Headers | undefined, statusCode?: number): void {
    this.attempts++;
    this.span.setAttribute(semconv.ATTR_TOLLGATE_ATTEMPTS, this.attempts);
    this.gate.metrics.providerAttempts.add(
      1,
      this.gateKey,
      this.gateAttributes,
      semconv.ATTR_HTTP_RESPONSE_STATUS_CODE,
      statusCode ?? 0,
    );
    if (!headers) return;
    const { descriptor } = this.request;
    const feedback = parseRateLimitHeaders(headers, {
      provider: descriptor.provider,
      model: this.admission.estimate.pricedModel ?? descriptor.model,
      tenant: this.admission.scope.tenant,
    });
    const saysSomething =
      feedback.remainingRequests !== undefined ||
      feedback.remainingTokens !== undefined ||
      feedback.requestsResetMillis !== undefined ||
      feedback.tokensResetMillis !== undefined ||
      feedback.retryAfterMillis !== undefined;
    if (saysSomething) {
      this.gate.guard.applyProviderFeedback(feedback);
      this.gate.metrics.recordRemaining(
        feedback.provider,
        feedback.model,
        feedback.remainingRequests,
        feedback.remainingTokens,
      );
    }
  }

  /** The first streamed chunk arrived. */
  recordFirstChunk(): void {
    if (this.firstChunkSeen) return;
    this.firstChunkSeen = true;
    this.gate.metrics.timeToFirstChunk.record(
      (performance.now() - this.startedAt) / 1000,
      this.metricAttributes,
    );
  }

  recordResponse(details: ResponseDetails): void {
    if (details.id) this.span.setAttribute(semconv.ATTR_GEN_AI_RESPONSE_ID, details.id);
    if (details.model) {
      this.responseModel = details.model;
      this.span.setAttribute(semconv.ATTR_GEN_AI_RESPONSE_MODEL, details.model);
    }
    if (details.finishReasons && details.finishReasons.length > 0) {
      this.span.setAttribute(semconv.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, [...details.finishReasons]);
    }
  }

  /** The call finished (or its stream ended early): settle to `usage` and end the span. */
  complete(
    usage: TokenUsage | undefined,
    source: Exclude<UsageSource, 'reservation'>,
    options: { interrupted?: boolean } = {},
  ): void {
    if (this.ended) return;
    this.ended = true;
    if (options.interrupted) this.span.setAttribute(semconv.ATTR_TOLLGATE_STREAM_INTERRUPTED, true);
    this.settle(usage, source, undefined);
  }

  /**
   * The call failed. With `partialUsage` (a stream that broke after output arrived) the
   * reservation is settled to it; otherwise it is released, as providers do not bill
   * requests they refused or failed.
   */
  fail(error: unknown, partialUsage?: TokenUsage): void {
    if (this.ended) return;
    this.ended = true;
    markFailed(this.span, error);
    if (partialUsage) {
      this.span.setAttribute(semconv.ATTR_TOLLGATE_STREAM_INTERRUPTED, true);
      this.settle(partialUsage, 'local-count', error, classifyFailure(error));
      return;
    }
    this.finishMetrics(undefined, error);
    const end = () => this.span.end();
    this.admission.release(`call failed: ${errorType(error)}`, classifyFailure(error)).then(end, end);
  }

  private settle(
    usage: TokenUsage | undefined,
    source: Exclude<UsageSource, 'reservation'>,
    error: unknown,
    failure?: CallFailure,
  ): void {
    if (usage) setUsageAttributes(this.span, usage);
    this.finishMetrics(usage, error);
    this.admission.settle(usage, source, failure ? { failure } : {}).then(
      (settlement) => {
        this.span.setAttribute(
          semconv.ATTR_TOLLGATE_USAGE_SOURCE,
          settlement.usageSource === 'local-count' ? 'local_count' : settlement.usageSource,
        );
        if (settlement.actualCostUsd !== undefined) {
          this.span.setAttribute(semconv.ATTR_TOLLGATE_COST_RECONCILED_USD, settlement.actualCostUsd);
          this.gate.metrics.cost.add(
            settlement.actualCostUsd,
            this.gateKey,
            this.gateAttributes,
            semconv.ATTR_TOLLGATE_COST_KIND,
            'reconciled',
          );
        }
        if (settlement.costDeltaUsd !== undefined)
          this.span.setAttribute(semconv.ATTR_TOLLGATE_COST_DELTA_USD, settlement.costDeltaUsd);
        if (settlement.minHeadroomRatio !== undefined) {
          this.span.setAttribute(
            semconv.ATTR_TOLLGATE_BUDGET_MIN_HEADROOM_RATIO,
            settlement.minHeadroomRatio,
          );
        }
        this.span.end();
      },
      // The ledger failed to settle: the span still ends (the guard reports the failure itself).
      () => this.span.end(),
    );
  }

  private finishMetrics(usage: TokenUsage | undefined, error: unknown): void {
    const attributes: Attributes = { ...this.metricAttributes };
    if (this.responseModel) attributes[semconv.ATTR_GEN_AI_RESPONSE_MODEL] = this.responseModel;
    if (error !== undefined) attributes[semconv.ATTR_ERROR_TYPE] = errorType(error);
    this.gate.metrics.operationDuration.record((performance.now() - this.startedAt) / 1000, attributes);
    if (usage?.inputTokens !== undefined) {
      this.gate.metrics.tokenUsage.record(usage.inputTokens, {
        ...attributes,
        [semconv.ATTR_GEN_AI_TOKEN_TYPE]: 'input',
      });
    }
    if (usage?.outputTokens !== undefined) {
      this.gate.metrics.tokenUsage.record(usage.outputTokens, {
        ...attributes,
        [semconv.ATTR_GEN_AI_TOKEN_TYPE]: 'output',
      });
    }
  }
}

function setUsageAttributes(span: Span, usage: TokenUsage): void {
  // The span skips undefined values: counts the provider did not report are not set.
  span.setAttributes({
    [semconv.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: usage.inputTokens,
    [semconv.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: usage.outputTokens,
    [semconv.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: usage.cacheReadInputTokens,
    [semconv.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: usage.cacheWriteInputTokens,
    [semconv.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: usage.reasoningOutputTokens,
  });
}

/** Records what the refusal description says about a refused call on its span. */
function setRefusalAttributes(span: Span, refusal: RefusalSpanFacts): void {
  if (refusal.reason !== undefined) span.setAttribute(semconv.ATTR_TOLLGATE_GATE_REASON, refusal.reason);
  if (refusal.limiterKeys !== undefined)
    span.setAttribute(semconv.ATTR_TOLLGATE_GATE_LIMITERS, refusal.limiterKeys);
  if (refusal.budgetId !== undefined) span.setAttribute(semconv.ATTR_TOLLGATE_BUDGET_ID, refusal.budgetId);
  // The refused call's worst case, when a USD budget refused it (an estimate).
  if (refusal.estimatedCostUsd !== undefined)
    span.setAttribute(semconv.ATTR_TOLLGATE_COST_ESTIMATED_USD, refusal.estimatedCostUsd);
  if (refusal.ruleId !== undefined) span.setAttribute(semconv.ATTR_TOLLGATE_POLICY_RULE, refusal.ruleId);
}

/** A low-cardinality name for an error: the class name, or `_OTHER`. */
export function errorType(error: unknown): string {
  if (error instanceof Error) return error.constructor.name === 'Error' ? '_OTHER' : error.constructor.name;
  return '_OTHER';
}

function markFailed(span: Span, error: unknown): void {
  span.setAttribute(semconv.ATTR_ERROR_TYPE, errorType(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  if (error instanceof Error) span.recordException(error);
}
