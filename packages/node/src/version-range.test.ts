import { SUPPORTED_ANTHROPIC_RANGE } from '@tollgate/instrumentation-anthropic';
import { SUPPORTED_OPENAI_RANGE } from '@tollgate/instrumentation-openai';
import { describe, expect, it } from 'vitest';
import { satisfiesRange } from './version-range';

describe('satisfiesRange', () => {
  it('reads the ranges the instrumentations export, so an unsupported SDK copy is never patched late', () => {
    expect(satisfiesRange('6.49.0', SUPPORTED_OPENAI_RANGE)).toBe(true);
    expect(satisfiesRange('7.0.0-beta.1', SUPPORTED_OPENAI_RANGE)).toBe(true);
    expect(satisfiesRange('4.104.0', SUPPORTED_OPENAI_RANGE)).toBe(false);
    expect(satisfiesRange('8.0.0', SUPPORTED_OPENAI_RANGE)).toBe(false);
    expect(satisfiesRange('1.12.0', SUPPORTED_ANTHROPIC_RANGE)).toBe(true);
    expect(satisfiesRange('0.49.9', SUPPORTED_ANTHROPIC_RANGE)).toBe(false);
    expect(satisfiesRange('0.50.0', SUPPORTED_ANTHROPIC_RANGE)).toBe(true);
  });

  it('treats a version or range it cannot read as unsupported', () => {
    expect(satisfiesRange('', '>=5 <8')).toBe(false);
    expect(satisfiesRange('6.0.0', '^6')).toBe(false);
  });
});
