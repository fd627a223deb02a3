import type { Histogram, Meter, ObservableResult } from '@opentelemetry/api';
import type { Guard } from '../guard/guard';
import { AccumulatedCounter } from './accumulated-counter';
import { budgetInstanceAttributes, ExhaustedBudgets } from './exhausted-budgets';
import {
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_TOLLGATE_BUDGET_THRESHOLD,
  ATTR_TOLLGATE_RATELIMIT_KIND,
  DURATION_BUCKETS_SECONDS,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  METRIC_TOLLGATE_BUDGET_EXHAUSTED,
  METRIC_TOLLGATE_BUDGET_LIMIT,
  METRIC_TOLLGATE_BUDGET_RESERVED,
  METRIC_TOLLGATE_BUDGET_SPENT,
  METRIC_TOLLGATE_BUDGET_THRESHOLD_CROSSINGS,
  METRIC_TOLLGATE_CACHE_REQUESTS,
  METRIC_TOLLGATE_CIRCUIT_OPEN,
  METRIC_TOLLGATE_COST,
  METRIC_TOLLGATE_COST_SAVED,
  METRIC_TOLLGATE_GATE_DECISIONS,
  METRIC_TOLLGATE_GATE_WAIT,
  METRIC_TOLLGATE_PROVIDER_ATTEMPTS,
  METRIC_TOLLGATE_PROVIDER_RATELIMIT_REMAINING,
  TOKEN_USAGE_BUCKETS,
} from './semconv';

/** Remaining provider capacity last reported for one model. */
interface RemainingCapacity {
  provider: string;
  model: string;
  requests: number | undefined;
  tokens: number | undefined;
}

/**
 * The instruments every instrumentation records to. Tollgate's own counters and gauges use
 * units in braces, which both the Collector and the JS Prometheus exporter leave out of the
 * metric name, so alerts see the same names on either path. Durations use unit `s`, as the
 * OpenTelemetry conventions ask; the Collector appends `_seconds` to their names.
 */
export class GateMetrics {
  readonly tokenUsage: Histogram;
  readonly operationDuration: Histogram;
  readonly timeToFirstChunk: Histogram;
  readonly cost: AccumulatedCounter;
  readonly decisions: AccumulatedCounter;
  readonly waitDuration: Histogram;
  readonly providerAttempts: AccumulatedCounter;
  readonly cacheRequests: AccumulatedCounter;
  readonly costSaved: AccumulatedCounter;
  private readonly remaining = new Map<string, RemainingCapacity>();

  constructor(meter: Meter, guard: Guard) {
    this.tokenUsage = meter.createHistogram(METRIC_GEN_AI_CLIENT_TOKEN_USAGE, {
      description: 'Tokens used per call, by token type',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKEN_USAGE_BUCKETS },
    });
    this.operationDuration = meter.createHistogram(METRIC_GEN_AI_CLIENT_OPERATION_DURATION, {
      description:
        'Duration of LLM calls from admission (time queued at the gate is tollgate.gate.wait.duration)',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_SECONDS },
    });
    this.timeToFirstChunk = meter.createHistogram(METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK, {
      description: 'Time from request to the first streamed chunk',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_SECONDS },
    });
    // Tollgate's per-call counters are summed in-process and reported at collection; see AccumulatedCounter.
    this.cost = AccumulatedCounter.on(meter, METRIC_TOLLGATE_COST, {
      description:
        'Estimated cost in USD at list price: kind=estimated is the worst case reserved, kind=reconciled is actual usage',
      unit: '{USD}',
    });
    this.decisions = AccumulatedCounter.on(meter, METRIC_TOLLGATE_GATE_DECISIONS, {
      description: 'Gate decisions, by decision',
      unit: '{decision}',
    });
    this.waitDuration = meter.createHistogram(METRIC_TOLLGATE_GATE_WAIT, {
      description: 'Time calls waited at the gate for rate-limit capacity',
      unit: 's',
      advice: { explicitBucketBoundaries: [0, ...DURATION_BUCKETS_SECONDS] },
    });

    this.providerAttempts = AccumulatedCounter.on(meter, METRIC_TOLLGATE_PROVIDER_ATTEMPTS, {
      description:
        'HTTP attempts made to providers, SDK retries included, by status code (0 when no response arrived)',
      unit: '{attempt}',
    });

    this.cacheRequests = AccumulatedCounter.on(meter, METRIC_TOLLGATE_CACHE_REQUESTS, {
      description:
        'Calls the response cache applied to: result=hit (answered from the cache), miss (sent), store (reply stored)',
      unit: '{request}',
    });
    this.costSaved = AccumulatedCounter.on(meter, METRIC_TOLLGATE_COST_SAVED, {
      description:
        'Estimated cost in USD at list price of the calls the response cache answered: what they would have cost',
      unit: '{USD}',
    });

    // Budget and circuit instruments describe the guard, not one SDK: only the first instrumentation sharing a guard reports them.
    if (!guardsWithMetrics.has(guard)) {
      guardsWithMetrics.add(guard);
      registerGuardInstruments(meter, guard);
    }

    const remainingGauge = meter.createObservableGauge(METRIC_TOLLGATE_PROVIDER_RATELIMIT_REMAINING, {
      description: 'Remaining capacity the provider last reported in its rate-limit headers',
      unit: '{count}',
    });
    remainingGauge.addCallback((result) => {
      for (const capacity of this.remaining.values()) {
        const base = {
          [ATTR_GEN_AI_PROVIDER_NAME]: capacity.provider,
          [ATTR_GEN_AI_REQUEST_MODEL]: capacity.model,
        };
        if (capacity.requests !== undefined)
          result.observe(capacity.requests, { ...base, [ATTR_TOLLGATE_RATELIMIT_KIND]: 'requests' });
        if (capacity.tokens !== undefined)
          result.observe(capacity.tokens, { ...base, [ATTR_TOLLGATE_RATELIMIT_KIND]: 'tokens' });
      }
    });
  }

  /** Records what a provider said remains of its limits for a model. */
  recordRemaining(
    provider: string,
    model: string,
    requests: number | undefined,
    tokens: number | undefined,
  ): void {
    if (requests === undefined && tokens === undefined) return;
    const key = `${provider}:${model}`;
    const previous = this.remaining.get(key);
    this.remaining.set(key, {
      provider,
      model,
      requests: requests ?? previous?.requests,
      tokens: tokens ?? previous?.tokens,
    });
  }
}

/**
 * Guards whose budget and circuit instruments are already registered. Shared by the ESM and
 * CommonJS copies of core, so one guard used by instrumentations from both copies still
 * reports each threshold crossing once.
 */
const GUARDS_WITH_METRICS_KEY = Symbol.for('tollgate.core.guards-with-metrics.v1');
const guardsWithMetrics = sharedGuardSet();

function sharedGuardSet(): WeakSet<Guard> {
  const registry = globalThis as Record<symbol, WeakSet<Guard> | undefined>;
  registry[GUARDS_WITH_METRICS_KEY] ??= new WeakSet<Guard>();
  return registry[GUARDS_WITH_METRICS_KEY];
}

/** Budget gauges, exhaustion, circuit state and threshold crossings: one set per guard. */
function registerGuardInstruments(meter: Meter, guard: Guard): void {
  const thresholdCrossings = meter.createCounter(METRIC_TOLLGATE_BUDGET_THRESHOLD_CROSSINGS, {
    description: 'Budget alert thresholds crossed (once per budget instance per window)',
    unit: '{crossing}',
  });
  const exhausted = new ExhaustedBudgets();
  guard.onDecision(
    (event) => {
      if (event.type === 'budget-exceeded') {
        exhausted.refused(
          budgetInstanceAttributes(event.budgetId, event.unit, event.budgetScope),
          event.resetAtMs,
        );
        return;
      }
      if (event.type !== 'threshold-crossed') return;
      thresholdCrossings.add(1, {
        ...budgetInstanceAttributes(event.budgetId, event.unit, event.scope),
        [ATTR_TOLLGATE_BUDGET_THRESHOLD]: event.threshold,
      });
    },
    ['threshold-crossed', 'budget-exceeded'],
  );
  meter
    .createObservableGauge(METRIC_TOLLGATE_BUDGET_EXHAUSTED, {
      description:
        'Budget instance exhausted: 1 once it refused a call for lack of room in its current window, or settled spend reached the limit; 0 otherwise',
      unit: '{budget}',
    })
    .addCallback((result) => {
      for (const reading of exhausted.read(guard.budgetInstances(), Date.now()))
        result.observe(reading.exhausted ? 1 : 0, reading.attributes);
    });
  // The state is the value, never an attribute: a series for a state the circuit left would
  // keep being exported at its last value, and its alert would never resolve.
  meter
    .createObservableGauge(METRIC_TOLLGATE_CIRCUIT_OPEN, {
      description: 'Circuit breaker state: 1 open or half-open, 0 closed',
      unit: '{circuit}',
    })
    .addCallback((result) => {
      for (const circuit of guard.circuits.states()) {
        result.observe(circuit.state === 'closed' ? 0 : 1, {
          [ATTR_GEN_AI_PROVIDER_NAME]: circuit.provider,
          [ATTR_GEN_AI_REQUEST_MODEL]: circuit.model,
        });
      }
    });

  const observe = (result: ObservableResult, pick: 'limit' | 'spent' | 'reserved') => {
    for (const instance of guard.budgetInstances())
      result.observe(
        instance[pick],
        budgetInstanceAttributes(instance.budgetId, instance.unit, instance.scope),
      );
  };
  const budgetGauge = (name: string, pick: 'limit' | 'spent' | 'reserved', description: string) => {
    const gauge = meter.createObservableGauge(name, { description, unit: '{budget_unit}' });
    gauge.addCallback((result) => observe(result, pick));
  };
  budgetGauge(
    METRIC_TOLLGATE_BUDGET_LIMIT,
    'limit',
    'Budget limit per instance, in the budget unit (USD estimated)',
  );
  budgetGauge(
    METRIC_TOLLGATE_BUDGET_SPENT,
    'spent',
    'Settled spend in the current window, in the budget unit (USD estimated)',
  );
  budgetGauge(
    METRIC_TOLLGATE_BUDGET_RESERVED,
    'reserved',
    'Amount held by calls in flight, in the budget unit (USD estimated)',
  );
}
