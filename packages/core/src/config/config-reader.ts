import { TollgateConfigError } from '../errors/config-error';

/**
 * Small typed readers for validating untrusted configuration. Each takes the field's
 * path so every error names exactly what is wrong.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expectRecord(value: unknown, field: string): Record<string, unknown> {
  if (!isRecord(value)) throw new TollgateConfigError(field, 'must be an object', value);
  return value;
}

export function expectKnownKeys(
  value: Record<string, unknown>,
  field: string,
  known: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TollgateConfigError(
        `${field}.${key}`.replace(/^\./, ''),
        `is not a known option (expected one of: ${known.join(', ')})`,
        value[key],
      );
    }
  }
}

export function expectArray(value: unknown, field: string): readonly unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TollgateConfigError(field, 'must be an array', value);
  return value;
}

export function expectString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new TollgateConfigError(field, 'must be a non-empty string', value);
  return value;
}

export function optionalString(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : expectString(value, field);
}

export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean')
    throw new TollgateConfigError(field, 'must be true or false', value);
  return value;
}

export function expectStringOrList(value: unknown, field: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [expectString(value, field)];
  const list = expectArray(value, field);
  if (list.length === 0) throw new TollgateConfigError(field, 'must list at least one value', value);
  return list.map((item, index) => expectString(item, `${field}[${index}]`));
}

export interface NumberRule {
  integer?: boolean;
  /** Smallest allowed value, inclusive. */
  min?: number;
  /** Whether `min` itself is allowed. @default true */
  minInclusive?: boolean;
  max?: number;
}

export function optionalNumber(value: unknown, field: string, rule: NumberRule = {}): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new TollgateConfigError(field, 'must be a finite number', value);
  if (rule.integer && !Number.isInteger(value))
    throw new TollgateConfigError(field, 'must be a whole number', value);
  if (rule.min !== undefined) {
    const tooSmall = rule.minInclusive === false ? value <= rule.min : value < rule.min;
    if (tooSmall)
      throw new TollgateConfigError(
        field,
        `must be ${rule.minInclusive === false ? 'greater than' : 'at least'} ${rule.min}`,
        value,
      );
  }
  if (rule.max !== undefined && value > rule.max)
    throw new TollgateConfigError(field, `must be at most ${rule.max}`, value);
  return value;
}

export function expectOneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new TollgateConfigError(
      field,
      `must be one of ${allowed.map((item) => `'${item}'`).join(', ')}`,
      value,
    );
  }
  return value as T;
}
