/*
 * The OpenTelemetry instruments Tollgate records, and the Prometheus series names they become.
 * Alert rules and the dashboard may use these names and no others.
 */

export type InstrumentKind = 'counter' | 'histogram' | 'gauge';

export interface Instrument {
  /** OpenTelemetry name, as in packages/core/src/telemetry/semconv.ts. */
  name: string;
  /** The constant in semconv.ts that holds the name (absent for planned instruments). */
  constant?: string;
  kind: InstrumentKind;
  unit: string;
  /** Not recorded yet: written against the name the issue plans. */
  plannedIn?: string;
}

export const INSTRUMENTS: readonly Instrument[] = [
  { name: 'tollgate.cost', constant: 'METRIC_TOLLGATE_COST', kind: 'counter', unit: '{USD}' },
  {
    name: 'tollgate.gate.decisions',
    constant: 'METRIC_TOLLGATE_GATE_DECISIONS',
    kind: 'counter',
    unit: '{decision}',
  },
  {
    name: 'tollgate.gate.wait.duration',
    constant: 'METRIC_TOLLGATE_GATE_WAIT',
    kind: 'histogram',
    unit: 's',
  },
  {
    name: 'tollgate.budget.limit',
    constant: 'METRIC_TOLLGATE_BUDGET_LIMIT',
    kind: 'gauge',
    unit: '{budget_unit}',
  },
  {
    name: 'tollgate.budget.spent',
    constant: 'METRIC_TOLLGATE_BUDGET_SPENT',
    kind: 'gauge',
    unit: '{budget_unit}',
  },
  {
    name: 'tollgate.budget.reserved',
    constant: 'METRIC_TOLLGATE_BUDGET_RESERVED',
    kind: 'gauge',
    unit: '{budget_unit}',
  },
  {
    name: 'tollgate.provider.ratelimit.remaining',
    constant: 'METRIC_TOLLGATE_PROVIDER_RATELIMIT_REMAINING',
    kind: 'gauge',
    unit: '{count}',
  },
  {
    name: 'tollgate.provider.attempts',
    constant: 'METRIC_TOLLGATE_PROVIDER_ATTEMPTS',
    kind: 'counter',
    unit: '{attempt}',
  },
  {
    name: 'gen_ai.client.token.usage',
    constant: 'METRIC_GEN_AI_CLIENT_TOKEN_USAGE',
    kind: 'histogram',
    unit: '{token}',
  },
  {
    name: 'gen_ai.client.operation.duration',
    constant: 'METRIC_GEN_AI_CLIENT_OPERATION_DURATION',
    kind: 'histogram',
    unit: 's',
  },
  {
    name: 'gen_ai.client.operation.time_to_first_chunk',
    constant: 'METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK',
    kind: 'histogram',
    unit: 's',
  },
  {
    name: 'tollgate.budget.exhausted',
    constant: 'METRIC_TOLLGATE_BUDGET_EXHAUSTED',
    kind: 'gauge',
    unit: '{budget}',
  },
  {
    name: 'tollgate.budget.threshold_crossings',
    constant: 'METRIC_TOLLGATE_BUDGET_THRESHOLD_CROSSINGS',
    kind: 'counter',
    unit: '{crossing}',
  },
  {
    name: 'tollgate.circuit.open',
    constant: 'METRIC_TOLLGATE_CIRCUIT_OPEN',
    kind: 'gauge',
    unit: '{circuit}',
  },
  {
    name: 'tollgate.cache.requests',
    constant: 'METRIC_TOLLGATE_CACHE_REQUESTS',
    kind: 'counter',
    unit: '{request}',
  },
  { name: 'tollgate.cost.saved', constant: 'METRIC_TOLLGATE_COST_SAVED', kind: 'counter', unit: '{USD}' },
];

/** UCUM units the Collector spells out; only the ones Tollgate could plausibly use. */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'seconds',
  ms: 'milliseconds',
  By: 'bytes',
  '1': '',
};

const escapeName = (name: string) =>
  name
    .split(/[^a-zA-Z0-9:]+/)
    .filter(Boolean)
    .join('_');

/**
 * The metric family name the Collector's `prometheus` exporter gives an instrument with
 * `translation_strategy: UnderscoreEscapingWithSuffixes`: invalid characters become `_`, a
 * unit outside braces is appended as a word, monotonic counters end in `_total`, and a
 * gauge with unit `1` ends in `_ratio`.
 */
export function collectorFamilyName(instrument: Instrument): string {
  const tokens = escapeName(instrument.name).split('_');
  const unit = instrument.unit.includes('{')
    ? ''
    : (UNIT_WORDS[instrument.unit] ?? escapeName(instrument.unit));
  if (unit && !tokens.includes(unit)) tokens.push(unit);
  if (instrument.kind === 'counter') tokens.push('total');
  if (instrument.kind === 'gauge' && instrument.unit === '1') tokens.push('ratio');
  return tokens.join('_');
}

/** The family name `@opentelemetry/exporter-prometheus` (JS, 0.2xx) gives it: `_total` on counters, never a unit. */
export function jsExporterFamilyName(instrument: Instrument): string {
  const name = escapeName(instrument.name);
  return instrument.kind === 'counter' && !name.endsWith('_total') ? `${name}_total` : name;
}

/** The series a family exposes: histograms as `_bucket`, `_sum` and `_count`. */
export function seriesOf(family: string, kind: InstrumentKind): string[] {
  return kind === 'histogram' ? [`${family}_bucket`, `${family}_sum`, `${family}_count`] : [family];
}

/** Every series name the Collector path exposes for Tollgate's instruments. */
export function collectorSeriesNames(): Set<string> {
  return new Set(INSTRUMENTS.flatMap((i) => seriesOf(collectorFamilyName(i), i.kind)));
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'atan2',
]);

const PROMQL_FUNCTIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'topk',
  'bottomk',
  'quantile',
  'rate',
  'irate',
  'increase',
  'delta',
  'deriv',
  'predict_linear',
  'histogram_quantile',
  'absent',
  'absent_over_time',
  'max_over_time',
  'min_over_time',
  'avg_over_time',
  'sum_over_time',
  'last_over_time',
  'clamp_min',
  'clamp_max',
  'vector',
  'scalar',
  'time',
  'label_values',
]);

/**
 * The metric names a PromQL expression (or a Grafana `label_values()` query) selects, and any
 * function names it calls that are not known PromQL. Label names, label values, durations
 * and Grafana variables are left out.
 */
export function namesInQuery(query: string): { metrics: string[]; unknownFunctions: string[] } {
  const stripped = query
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/label_values\(\s*([a-zA-Z_:][\w:]*)\s*(?:\{[^}]*\})?\s*,[^)]*\)/g, ' $1 ')
    .replace(/label_values\([^)]*\)/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const metrics: string[] = [];
  const unknownFunctions: string[] = [];
  for (const match of stripped.matchAll(/\$?[A-Za-z_:][\w:]*|\d[\w.]*/g)) {
    const token = match[0];
    if (/^[\d$]/.test(token) || PROMQL_KEYWORDS.has(token)) continue;
    const isCall = /^\s*\(/.test(stripped.slice((match.index ?? 0) + token.length));
    if (isCall) {
      if (!PROMQL_FUNCTIONS.has(token)) unknownFunctions.push(token);
    } else metrics.push(token);
  }
  return { metrics, unknownFunctions };
}
