/*
 * Attribute and metric names. The `gen_ai.*` names follow the OpenTelemetry GenAI
 * semantic conventions v1.40 (Development status; the names are those of the incubating
 * entry point of @opentelemetry/semantic-conventions 1.40–1.45): they are copied here
 * (not imported from the incubating entry point) so a rename upstream is a deliberate
 * change in this file. Everything Tollgate adds lives under `tollgate.*`.
 */

// GenAI semantic conventions (experimental)
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const ATTR_GEN_AI_REQUEST_CHOICE_COUNT = 'gen_ai.request.choice.count';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';

export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage';
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration';
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK =
  'gen_ai.client.operation.time_to_first_chunk';

/** Bucket boundaries the conventions recommend for `gen_ai.client.token.usage`: powers of 4 up to 4^13. */
export const TOKEN_USAGE_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
/** Bucket boundaries the conventions recommend for durations in seconds: doubling from 10 ms. */
export const DURATION_BUCKETS_SECONDS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

// Tollgate's own attributes
/** The gate's decision: `allowed`, `rate_limited`, `budget_exceeded`, `unpriced_model`, `unbounded_output`, `circuit_open`, `policy_rejected`, `deferred`, `aborted` (the caller's signal, while waiting), `error`. */
export const ATTR_TOLLGATE_GATE_DECISION = 'tollgate.gate.decision';
/** Why a limiter refused the call. */
export const ATTR_TOLLGATE_GATE_REASON = 'tollgate.gate.reason';
/** Milliseconds the call queued for rate-limit capacity. */
export const ATTR_TOLLGATE_GATE_WAIT_MS = 'tollgate.gate.wait_ms';
/** Limiters that admitted (or refused) the call. */
export const ATTR_TOLLGATE_GATE_LIMITERS = 'tollgate.gate.limiters';
/** Budgets the call reserved against (ids). */
export const ATTR_TOLLGATE_BUDGET_IDS = 'tollgate.budget.ids';
/** Least headroom left, as a fraction of its limit, over the budgets the call touched (after settlement). */
export const ATTR_TOLLGATE_BUDGET_MIN_HEADROOM_RATIO = 'tollgate.budget.min_headroom_ratio';
/** The degradation rule that refused, deferred or rewrote the call. */
export const ATTR_TOLLGATE_POLICY_RULE = 'tollgate.policy.rule';
/** The budget that refused the call. */
export const ATTR_TOLLGATE_BUDGET_ID = 'tollgate.budget.id';
/** The model the caller asked for, when a routing rule sent another one (`gen_ai.request.model` is the one sent). */
export const ATTR_TOLLGATE_FALLBACK_FROM_MODEL = 'tollgate.fallback.from_model';
/** The provider the caller asked for, when a routing rule sent the call to another provider's model (`gen_ai.provider.name` is the one used). */
export const ATTR_TOLLGATE_FALLBACK_FROM_PROVIDER = 'tollgate.fallback.from_provider';
/** `tollgate.circuit.state`: `closed`, `open` or `half-open`. */
export const ATTR_TOLLGATE_CIRCUIT_STATE = 'tollgate.circuit.state';
/** `tollgate.budget.threshold`: the fraction of the limit crossed. */
export const ATTR_TOLLGATE_BUDGET_THRESHOLD = 'tollgate.budget.threshold';
/** Estimated input tokens before the call (an estimate). */
export const ATTR_TOLLGATE_ESTIMATE_INPUT_TOKENS = 'tollgate.estimate.input_tokens';
/** How the input estimate was made: `tiktoken`, `approximation` or `byte-bound`. */
export const ATTR_TOLLGATE_ESTIMATE_METHOD = 'tollgate.estimate.method';
/** Output tokens reserved per choice. */
export const ATTR_TOLLGATE_ESTIMATE_MAX_OUTPUT_TOKENS = 'tollgate.estimate.max_output_tokens';
/** Worst-case cost reserved before the call, USD (an estimate). */
export const ATTR_TOLLGATE_COST_ESTIMATED_USD = 'tollgate.cost.estimated_usd';
/** Cost of the actual usage at list price, USD (still an estimate: computed from the price table, not read from a bill). */
export const ATTR_TOLLGATE_COST_RECONCILED_USD = 'tollgate.cost.reconciled_usd';
/** `reconciled − estimated`, USD. */
export const ATTR_TOLLGATE_COST_DELTA_USD = 'tollgate.cost.delta_usd';
/** What a call answered from the response cache would have cost at list price. */
export const ATTR_TOLLGATE_COST_SAVED_USD = 'tollgate.cost.saved_usd';
/** Whether the response cache answered the call (set on calls the cache applies to). */
export const ATTR_TOLLGATE_CACHE_HIT = 'tollgate.cache.hit';
/** `hit`, `miss` or `store`, on `tollgate.cache.requests`. */
export const ATTR_TOLLGATE_CACHE_RESULT = 'tollgate.cache.result';
/** Where the reconciled usage came from: `provider`, `local_count` or `reservation`. */
export const ATTR_TOLLGATE_USAGE_SOURCE = 'tollgate.usage.source';
/** The model the price table priced the call as. */
export const ATTR_TOLLGATE_PRICE_MODEL = 'tollgate.price.model';
/** The date the price table's figures were checked. */
export const ATTR_TOLLGATE_PRICE_CHECKED_AT = 'tollgate.price.checked_at';
/** HTTP attempts the SDK made for this call (retries included). */
export const ATTR_TOLLGATE_ATTEMPTS = 'tollgate.attempts';
/** The call's stream ended before completion (break, abort, or error). */
export const ATTR_TOLLGATE_STREAM_INTERRUPTED = 'tollgate.stream.interrupted';
/** Budget scope attributes (only dimensions a budget is split by). */
export const ATTR_TOLLGATE_TENANT = 'tollgate.tenant';
export const ATTR_TOLLGATE_FEATURE = 'tollgate.feature';

// Tollgate's own metrics. Units in braces keep Prometheus names identical through the
// Collector and through the JS Prometheus exporter; the wait histogram's unit `s` adds
// `_seconds` on the Collector path only, as the GenAI duration histograms do.
export const METRIC_TOLLGATE_COST = 'tollgate.cost';
/** Calls the response cache applied to, by `tollgate.cache.result` (hit, miss, store). */
export const METRIC_TOLLGATE_CACHE_REQUESTS = 'tollgate.cache.requests';
/** What calls answered from the response cache would have cost at list price, in USD. */
export const METRIC_TOLLGATE_COST_SAVED = 'tollgate.cost.saved';
export const METRIC_TOLLGATE_GATE_DECISIONS = 'tollgate.gate.decisions';
export const METRIC_TOLLGATE_GATE_WAIT = 'tollgate.gate.wait.duration';
export const METRIC_TOLLGATE_BUDGET_LIMIT = 'tollgate.budget.limit';
export const METRIC_TOLLGATE_BUDGET_SPENT = 'tollgate.budget.spent';
export const METRIC_TOLLGATE_BUDGET_RESERVED = 'tollgate.budget.reserved';
/** 1 while a budget instance is exhausted (it refused a call for lack of room this window, or spent ≥ limit), else 0. */
export const METRIC_TOLLGATE_BUDGET_EXHAUSTED = 'tollgate.budget.exhausted';
export const METRIC_TOLLGATE_PROVIDER_RATELIMIT_REMAINING = 'tollgate.provider.ratelimit.remaining';
/** 1 while a circuit is open or half-open, 0 when closed; attrs provider and model (the state is the value, never an attribute). */
export const METRIC_TOLLGATE_CIRCUIT_OPEN = 'tollgate.circuit.open';
/** Budget alert thresholds crossed, by budget and threshold. */
export const METRIC_TOLLGATE_BUDGET_THRESHOLD_CROSSINGS = 'tollgate.budget.threshold_crossings';
/** HTTP attempts made to providers (SDK retries included), by status code; 429s are the provider refusing. */
export const METRIC_TOLLGATE_PROVIDER_ATTEMPTS = 'tollgate.provider.attempts';

/** `tollgate.cost.kind`: `estimated` (reserved before the call) or `reconciled` (from actual usage). */
export const ATTR_TOLLGATE_COST_KIND = 'tollgate.cost.kind';
/** `tollgate.budget.unit`: `usd`, `tokens` or `requests`. */
export const ATTR_TOLLGATE_BUDGET_UNIT = 'tollgate.budget.unit';
/** `tollgate.ratelimit.kind`: `requests` or `tokens`. */
export const ATTR_TOLLGATE_RATELIMIT_KIND = 'tollgate.ratelimit.kind';
