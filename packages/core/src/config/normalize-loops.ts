import { TollgateConfigError } from '../errors/config-error';
import type { LoopScopeDimension, NormalizedLoopRule } from '../policies/loop-rule';
import {
  expectArray,
  expectKnownKeys,
  expectOneOf,
  expectRecord,
  expectString,
  expectStringOrList,
  optionalNumber,
} from './config-reader';

const LOOP_DIMENSIONS: readonly LoopScopeDimension[] = ['tenant', 'user', 'feature'];
const MATCH_KEYS = ['provider', 'model', 'tenant', 'user', 'feature'] as const;

/** Validates `loops`: each rule, and that ids are unique. */
export function normalizeLoops(value: unknown): NormalizedLoopRule[] {
  const rules = expectArray(value, 'loops').map((rule, index) => normalizeLoop(rule, `loops[${index}]`));
  const seen = new Set<string>();
  rules.forEach((rule, index) => {
    if (seen.has(rule.id)) throw new TollgateConfigError(`loops[${index}].id`, 'must be unique', rule.id);
    seen.add(rule.id);
  });
  return rules;
}

function normalizeLoop(value: unknown, field: string): NormalizedLoopRule {
  const rule = expectRecord(value, field);
  expectKnownKeys(rule, field, ['id', 'maxIdentical', 'windowMillis', 'per', 'match', 'repeats']);
  const id = expectString(rule.id, `${field}.id`);
  const maxIdentical = optionalNumber(rule.maxIdentical, `${field}.maxIdentical`, { integer: true, min: 1 });
  if (maxIdentical === undefined)
    throw new TollgateConfigError(`${field}.maxIdentical`, 'is required', rule.maxIdentical);
  const windowMillis =
    optionalNumber(rule.windowMillis, `${field}.windowMillis`, { integer: true, min: 1 }) ?? 60_000;
  const per = expectArray(rule.per, `${field}.per`).map((dimension, index) =>
    expectOneOf(dimension, `${field}.per[${index}]`, LOOP_DIMENSIONS),
  );
  if (new Set(per).size !== per.length)
    throw new TollgateConfigError(`${field}.per`, 'lists a dimension twice', rule.per);
  const match: Partial<Record<(typeof MATCH_KEYS)[number], readonly string[]>> = {};
  if (rule.match !== undefined) {
    const matchRecord = expectRecord(rule.match, `${field}.match`);
    expectKnownKeys(matchRecord, `${field}.match`, MATCH_KEYS);
    for (const key of MATCH_KEYS) {
      const values = expectStringOrList(matchRecord[key], `${field}.match.${key}`);
      if (values)
        match[key] =
          key === 'model' || key === 'provider' ? values.map((item) => item.toLowerCase()) : values;
    }
  }
  const repeats =
    rule.repeats === undefined
      ? 'identical'
      : expectOneOf(rule.repeats, `${field}.repeats`, ['identical', 'same-turn'] as const);
  return { id, maxIdentical, windowMillis, per, match, repeats };
}
