import { describe, expect, it } from 'vitest';
import { BudgetExceededError } from './budget-exceeded-error';
import { TollgateConfigError } from './config-error';
import { RateLimitedError } from './rate-limited-error';
import { TollgateError } from './tollgate-error';

describe('typed errors', () => {
  const budget = new BudgetExceededError(
    {
      budgetId: 'daily',
      scope: { tenant: 'acme' },
      unit: 'usd',
      limit: 25,
      spent: 24.9,
      reserved: 0.05,
      requested: 0.2,
      resetAtMs: 10_000,
    },
    4_000,
  );

  it('carry machine-usable fields and a message that names them', () => {
    expect(budget).toBeInstanceOf(TollgateError);
    expect(budget.retryAfterMs).toBe(6_000);
    expect(budget.message).toContain('Budget "daily" (tenant=acme)');
    expect(budget.message).toContain('estimated USD');
    expect(budget.message).toContain('not sent');
    expect(budget.name).toBe('BudgetExceededError');
  });

  it('are recognised across package copies through the global brand', () => {
    // A second copy of the package has its own classes but stamps the same Symbol.for brand.
    const foreign = Object.assign(new Error('from another copy'), { code: RateLimitedError.code });
    Object.defineProperty(foreign, Symbol.for('tollgate.error'), { value: true });
    expect(RateLimitedError.isInstance(foreign)).toBe(true);
    expect(TollgateError.isInstance(foreign)).toBe(true);
    expect(BudgetExceededError.isInstance(foreign)).toBe(false);
    expect(TollgateError.isInstance(new Error('plain'))).toBe(false);
    expect(BudgetExceededError.isInstance(budget)).toBe(true);
  });

  it('config errors name the field', () => {
    const error = new TollgateConfigError('budgets[0].limit.usd', 'must be greater than 0', -1);
    expect(error.field).toBe('budgets[0].limit.usd');
    expect(error.message).toBe(
      'Invalid Tollgate config at budgets[0].limit.usd: must be greater than 0 (got -1)',
    );
  });
});
