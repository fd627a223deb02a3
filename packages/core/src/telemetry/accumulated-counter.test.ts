import type { Attributes, Meter, ObservableCallback, ObservableResult } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { AccumulatedCounter, attributesKey } from './accumulated-counter';

/** A meter that only keeps observable-counter callbacks, and a collection that reads them. */
function fakeMeter() {
  const callbacks: ObservableCallback[] = [];
  let created = 0;
  const meter = {
    createObservableCounter: () => {
      created++;
      return { addCallback: (callback: ObservableCallback) => callbacks.push(callback) };
    },
  } as unknown as Meter;
  const collect = async () => {
    const points: Array<{ value: number; attributes: Attributes }> = [];
    const result = {
      observe: (value: number, attributes: Attributes = {}) => points.push({ value, attributes }),
    } as ObservableResult;
    for (const callback of callbacks) await callback(result);
    return points;
  };
  return { meter, collect, created: () => created };
}

describe('AccumulatedCounter', () => {
  it('sums per attribute set and reports the sums when collected', async () => {
    const { meter, collect } = fakeMeter();
    const counter = AccumulatedCounter.on(meter, 'tollgate.cost', {});
    const base = { 'gen_ai.request.model': 'gpt-4o-mini' };
    const key = attributesKey(base);
    counter.add(0.5, key, base, 'tollgate.cost.kind', 'estimated');
    counter.add(0.25, key, base, 'tollgate.cost.kind', 'estimated');
    counter.add(0.1, key, base, 'tollgate.cost.kind', 'reconciled');
    expect(await collect()).toEqual([
      {
        value: 0.75,
        attributes: { 'gen_ai.request.model': 'gpt-4o-mini', 'tollgate.cost.kind': 'estimated' },
      },
      {
        value: 0.1,
        attributes: { 'gen_ai.request.model': 'gpt-4o-mini', 'tollgate.cost.kind': 'reconciled' },
      },
    ]);
    // Cumulative: a second collection reports the running sums.
    counter.add(1, key, base, 'tollgate.cost.kind', 'reconciled');
    expect((await collect())[1]!.value).toBeCloseTo(1.1);
  });

  it('ignores negative and NaN amounts, as a monotonic sum must', async () => {
    const { meter, collect } = fakeMeter();
    const counter = AccumulatedCounter.on(meter, 'c', {});
    counter.add(-1, 'k', {}, 'kind', 'a');
    counter.add(Number.NaN, 'k', {}, 'kind', 'a');
    expect(await collect()).toEqual([]);
  });

  it('is one instrument per meter and name, so several callers never report a series twice', () => {
    const { meter, created } = fakeMeter();
    expect(AccumulatedCounter.on(meter, 'c', {})).toBe(AccumulatedCounter.on(meter, 'c', {}));
    expect(created()).toBe(1);
  });

  it('folds series beyond its limit into one overflow series', async () => {
    const { meter, collect } = fakeMeter();
    const counter = AccumulatedCounter.on(meter, 'c', {});
    for (let index = 0; index < 2_005; index++) counter.add(1, `k${index}`, { n: index }, 'kind', 'a');
    const points = await collect();
    expect(points).toHaveLength(2_001);
    expect(points.at(-1)).toEqual({ value: 5, attributes: { 'otel.metric.overflow': true } });
  });

  it('keys attribute sets by names and values', () => {
    expect(attributesKey({ tenant: 'a' })).not.toBe(attributesKey({ user: 'a' }));
    expect(attributesKey({ a: 'x', b: 'y' })).toBe(attributesKey({ a: 'x', b: 'y' }));
  });
});
