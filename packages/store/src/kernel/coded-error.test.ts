import { describe, expect, it } from 'vitest';
import { isStoreError, NotFoundError, StoreError, ThrottledError } from '../errors.js';
import { CodedError, isCodedError } from './coded-error.js';
import { FencedError } from './compare-and-swap.js';

describe('CodedError', () => {
  it('is the base of the store family, with code, cause and retryable', () => {
    const cause = new Error('socket');
    const error = new ThrottledError('slow', { cause });
    expect(error).toBeInstanceOf(CodedError);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'Throttled', name: 'ThrottledError', retryable: true, cause });
    expect(new NotFoundError('k').retryable).toBe(false);
    expect(isCodedError(error, 'Throttled')).toBe(true);
    expect(isCodedError(error, 'NotFound')).toBe(false);
  });

  it('names a subclass after itself and is not retryable unless it says so', () => {
    const fenced = new FencedError('lease', 1, 2);
    expect(fenced.name).toBe('FencedError');
    expect(fenced.retryable).toBe(false);
    expect(isCodedError(fenced, 'Fenced')).toBe(true);
    expect(isStoreError(fenced)).toBe(false);
    expect(isCodedError(new Error('x'))).toBe(false);
  });
});
