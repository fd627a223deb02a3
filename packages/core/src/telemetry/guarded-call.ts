import type { Attributes, Context, Span } from '@opentelemetry/api';
import type { CachedReply } from '../cache/cached-reply';
import { ReplyRecorder, replayResponse } from '../cache/replayed-response';
import type { UsageSource } from '../events/decision-events';
import type { Admission, CacheLookup, Guard } from '../guard/guard';
import { parseRateLimitHeaders } from '../limits/provider-feedback';
import type { CallFailure } from '../policies/circuit-breaker';
import { classifyFailure } from '../policies/classify-failure';
import type { TokenUsage } from '../pricing/token-usage';
import { type ActiveCall, withActiveCall } from './active-call';
import type { GateMetrics } from './gate-metrics';
import type { GatedRequest, ResponseDetails } from './gated-request';
import { rateLimitHeaders } from './rate-limit-headers';
import * as semconv from './semconv';
import { errorType, markFailed, setUsageAttributes } from './span-outcome';

/** What a call needs from the gate that admitted it. */
export interface CallGateParts {
  readonly guard: Guard;
  readonly metrics: GateMetrics;
}

/**
 * One admitted provider call. Ends exactly once — `complete()` or `fail()`, whichever
 * comes first — settling or releasing the reservation and ending the span.
 */
export class GuardedCall implements ActiveCall {
  private ended = false;
  private attempts = 0;
  /** When the first streamed chunk arrived; its histogram is recorded when the call ends, off the chunk's path. */
  private firstChunkAt: number | undefined;
  private responseId: string | undefined;
  private responseModel: string | undefined;
  /** On a cache hit: the reply the SDK's fetch gets instead of a request. */
  private cachedReply: CachedReply | undefined;
  /** On a cache miss: where the reply is stored once the call completes whole. */
  private cacheLookup: CacheLookup | undefined;
  private recorder: ReplyRecorder | undefined;
  private keptReply: CachedReply | undefined;
  private finishReasons: string[] | undefined;

  constructor(
    private readonly gate: CallGateParts,
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

  /** Answers the call from the cache: its HTTP attempt gets `reply` instead of going out (the span opened with `tollgate.cache.hit`). */
  replay(reply: CachedReply): void {
    this.cachedReply = reply;
  }

  /** Whether the call is answered from the response cache (nothing is sent). */
  get answeredFromCache(): boolean {
    return this.cachedReply !== undefined;
  }

  /** Stores the call's reply in the cache once the call completes with its whole body read. */
  recordForCache(lookup: CacheLookup): void {
    this.cacheLookup = lookup;
  }

  /** The stored reply, for a call answered from the cache (SDKs without fetch replay it themselves). */
  get replayedReply(): CachedReply | undefined {
    return this.cachedReply;
  }

  /** Whether a whole reply received for this call goes to the cache (see `keepReply`). */
  get storesReply(): boolean {
    return this.cacheLookup !== undefined;
  }

  /** A reply an SDK without fetch read whole itself, stored once the call completes (see `responseReceived`). */
  keepReply(reply: CachedReply): void {
    if (this.cacheLookup && reply.status === 200) this.keptReply = reply;
  }

  /** The stored reply as a fresh response, for a call answered from the cache. */
  cachedResponse(): Response | undefined {
    return this.cachedReply ? replayResponse(this.cachedReply) : undefined;
  }

  /** A successful attempt's response, recorded for the cache when the call is to be stored. */
  responseReceived(response: Response): Response {
    if (!this.cacheLookup || this.recorder || response.status !== 200) return response;
    this.recorder = new ReplyRecorder(this.cacheLookup.plan.maxReplyBytes);
    return this.recorder.record(response);
  }

  /** One HTTP attempt finished (the SDK may retry): counts it by status and feeds rate-limit headers back to the limiter. */
  recordAttempt(headers: Headers | undefined, statusCode?: number): void {
    // Counted here, set on the span once when the call ends.
    this.attempts++;
    this.gate.metrics.providerAttempts.add(
      1,
      this.gateKey,
      this.gateAttributes,
      semconv.ATTR_HTTP_RESPONSE_STATUS_CODE,
      statusCode ?? 0,
    );
    // Nothing said about the provider's limits: nothing to feed back.
    const limits = headers && rateLimitHeaders(headers);
    if (!limits) return;
    const { descriptor } = this.request;
    const feedback = parseRateLimitHeaders(limits, {
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

  /** The first streamed chunk arrived: only its time is taken now, so the chunk reaches the caller sooner. */
  recordFirstChunk(): void {
    // A replayed stream says nothing about the provider's latency.
    if (this.cachedReply) return;
    this.firstChunkAt ??= performance.now();
  }

  /** What the response says about itself; written to the span with the rest when the call ends. */
  recordResponse(details: ResponseDetails): void {
    if (details.id) this.responseId = details.id;
    if (details.model) this.responseModel = details.model;
    if (details.finishReasons && details.finishReasons.length > 0)
      this.finishReasons = [...details.finishReasons];
  }

  /** The call finished (or its stream ended early): settle to `usage` and end the span. */
  complete(
    usage: TokenUsage | undefined,
    source: Exclude<UsageSource, 'reservation'>,
    options: { interrupted?: boolean } = {},
  ): void {
    if (this.ended) return;
    this.ended = true;
    this.recordEnd();
    if (options.interrupted) this.span.setAttribute(semconv.ATTR_TOLLGATE_STREAM_INTERRUPTED, true);
    else this.storeReply();
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
    this.recordEnd();
    markFailed(this.span, error);
    if (partialUsage) {
      this.span.setAttribute(semconv.ATTR_TOLLGATE_STREAM_INTERRUPTED, true);
      this.settle(partialUsage, 'local-count', error, classifyFailure(error));
      return;
    }
    this.finishMetrics(undefined, error);
    this.admission.release(`call failed: ${errorType(error)}`, classifyFailure(error)).then(
      () => this.span.end(),
      () => this.span.end(),
    );
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
        if (settlement.savedCostUsd !== undefined) {
          this.span.setAttribute(semconv.ATTR_TOLLGATE_COST_SAVED_USD, settlement.savedCostUsd);
          this.gate.metrics.costSaved.add(
            settlement.savedCostUsd,
            this.gateKey,
            this.gateAttributes,
            semconv.ATTR_TOLLGATE_CACHE_RESULT,
            'hit',
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

  /**
   * Stores a whole reply: read to its end, within the size limit, and from the model asked for
   * (a reply a routing rule got from another model or provider is not the answer to this request).
   */
  private storeReply(): void {
    const lookup = this.cacheLookup;
    const { descriptor } = this.request;
    const rerouted =
      this.admission.model !== descriptor.model || this.admission.provider !== descriptor.provider;
    if (!lookup || rerouted) return;
    const reply = this.recorder ? this.recorder.reply() : this.keptReply;
    if (!reply) return;
    lookup.store(reply);
    this.gate.metrics.cacheRequests.add(
      1,
      this.gateKey,
      this.gateAttributes,
      semconv.ATTR_TOLLGATE_CACHE_RESULT,
      'store',
    );
  }

  /** What was gathered while the call ran, onto the span in one pass. */
  private recordEnd(): void {
    this.span.setAttributes({
      [semconv.ATTR_TOLLGATE_ATTEMPTS]: this.attempts > 0 ? this.attempts : undefined,
      [semconv.ATTR_GEN_AI_RESPONSE_ID]: this.responseId,
      [semconv.ATTR_GEN_AI_RESPONSE_MODEL]: this.responseModel,
      [semconv.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: this.finishReasons,
    });
  }

  private finishMetrics(usage: TokenUsage | undefined, error: unknown): void {
    // A hit used no tokens and made no provider operation: the GenAI histograms describe the provider.
    if (this.cachedReply) return;
    // The call's own object, recorded from here on only: no copy for the duration and first chunk.
    const attributes = this.metricAttributes;
    if (this.responseModel) attributes[semconv.ATTR_GEN_AI_RESPONSE_MODEL] = this.responseModel;
    if (error !== undefined) attributes[semconv.ATTR_ERROR_TYPE] = errorType(error);
    const { metrics } = this.gate;
    metrics.operationDuration.record((performance.now() - this.startedAt) / 1000, attributes);
    if (this.firstChunkAt !== undefined)
      metrics.timeToFirstChunk.record((this.firstChunkAt - this.startedAt) / 1000, attributes);
    if (usage?.inputTokens !== undefined) {
      metrics.tokenUsage.record(usage.inputTokens, {
        ...attributes,
        [semconv.ATTR_GEN_AI_TOKEN_TYPE]: 'input',
      });
    }
    if (usage?.outputTokens !== undefined) {
      metrics.tokenUsage.record(usage.outputTokens, {
        ...attributes,
        [semconv.ATTR_GEN_AI_TOKEN_TYPE]: 'output',
      });
    }
  }
}
