import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { telemetryHarness } from '../testing/telemetry-harness';
import { AccumulatedCounter, attributesKey } from './accumulated-counter';

let harness: ReturnType<typeof telemetryHarness>;
beforeEach(() => {
  harness = telemetryHarness();
});
afterEach(async () => {
  await harness.shutdown();
});

const meter = () => harness.meterProvider.getMeter('tollgate-test');

describe('AccumulatedCounter', () => {
  it('exports a monotonic sum per attribute set, cumulative across collections', async () => {
    const counter = AccumulatedCounter.on(meter(), 'tollgate.cost', { unit: '{USD}' });
    const base = { 'gen_ai.request.model': 'gpt-4o-mini' };
    const key = attributesKey(base);
    counter.add(0.5, key, base, 'tollgate.cost.kind', 'estimated');
    counter.add(0.25, key, base, 'tollgate.cost.kind', 'estimated');
    counter.add(0.1, key, base, 'tollgate.cost.kind', 'reconciled');
    const points = await harness.metricPoints('tollgate.cost');
    expect(points.map((point) => [point.attributes, point.value])).toEqual([
      [{ 'gen_ai.request.model': 'gpt-4o-mini', 'tollgate.cost.kind': 'estimated' }, 0.75],
      [{ 'gen_ai.request.model': 'gpt-4o-mini', 'tollgate.cost.kind': 'reconciled' }, 0.1],
    ]);
    counter.add(1, key, base, 'tollgate.cost.kind', 'reconciled');
    expect((await harness.metricPoints('tollgate.cost'))[1]!.value).toBeCloseTo(1.1);
  });

  it('ignores negative and NaN amounts, as a monotonic sum must', async () => {
    const counter = AccumulatedCounter.on(meter(), 'tollgate.test', {});
    counter.add(-1, 'k', {}, 'kind', 'a');
    counter.add(Number.NaN, 'k', {}, 'kind', 'a');
    expect(await harness.metricPoints('tollgate.test')).toEqual([]);
  });

  it('is one instrument per meter and name, so several callers never report a series twice', async () => {
    const first = AccumulatedCounter.on(meter(), 'tollgate.test', {});
    const second = AccumulatedCounter.on(meter(), 'tollgate.test', {});
    expect(second).toBe(first);
    first.add(1, 'k', {}, 'kind', 'a');
    second.add(2, 'k', {}, 'kind', 'a');
    expect((await harness.metricPoints('tollgate.test')).map((point) => point.value)).toEqual([3]);
  });

  it('folds series beyond its limit into one overflow series', async () => {
    const counter = AccumulatedCounter.on(meter(), 'tollgate.test', {});
    for (let index = 0; index < 2_005; index++) counter.add(1, `k${index}`, { n: index }, 'kind', 'a');
    const points = await harness.metricPoints('tollgate.test');
    // 1,999 series and the overflow: within the metrics SDK's own limit of 2,000.
    expect(points).toHaveLength(2_000);
    const overflow = points.filter((point) => point.attributes['otel.metric.overflow'] === true);
    expect(overflow.map((point) => point.value)).toEqual([6]);
  });

  it('keys attribute sets by names and values', () => {
    expect(attributesKey({ tenant: 'a' })).not.toBe(attributesKey({ user: 'a' }));
    expect(attributesKey({ a: 'x', b: 'y' })).toBe(attributesKey({ a: 'x', b: 'y' }));
  });
});
