import { InvalidRequestError } from '../errors/invalid-request-error';
import type { RequestBody } from './request-shape';

/**
 * Reads an optional integer field of a request body; `undefined` and `null` mean "not set".
 *
 * @param body - The request body.
 * @param field - The field's name, also its path in the error.
 * @param minimum - The smallest allowed value.
 * @returns The value, or `undefined` when unset.
 * @throws {InvalidRequestError} Naming the field, when it is set to anything but an integer >= `minimum`.
 */
export function readIntegerField(body: RequestBody, field: string, minimum: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw new InvalidRequestError(
      field,
      minimum === 0 ? 'a non-negative integer' : `an integer >= ${minimum}`,
      value,
    );
  }
  return value;
}

/**
 * Refuses a list field (`messages`) set to anything but an array; unset (`undefined` or
 * `null`) passes, as the provider names a missing field itself.
 *
 * @throws {InvalidRequestError} Naming the field.
 */
export function checkArrayField(body: RequestBody, field: string): void {
  const value = body[field];
  if (value !== undefined && value !== null && !Array.isArray(value))
    throw new InvalidRequestError(field, 'an array', value);
}

/**
 * Refuses an input field that takes text or a list (`input`, `prompt`) set to anything else.
 *
 * @throws {InvalidRequestError} Naming the field.
 */
export function checkTextOrArrayField(body: RequestBody, field: string): void {
  const value = body[field];
  if (value !== undefined && value !== null && typeof value !== 'string' && !Array.isArray(value))
    throw new InvalidRequestError(field, 'a string or an array', value);
}
