import { InvalidRangeError } from './errors.js';
import type { ByteRange } from './object-store.js';

/** Resolves a range against an object's size: inclusive start, exclusive end, as S3 would serve it. */
export function resolveRange(key: string, size: number, range: ByteRange): { start: number; end: number } {
  if ('suffix' in range) {
    if (!Number.isSafeInteger(range.suffix) || range.suffix <= 0) {
      throw new InvalidRangeError(key, `suffix length must be a positive integer, got ${range.suffix}`);
    }
    return { start: Math.max(0, size - range.suffix), end: size };
  }
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidRangeError(key, `offset must be a non-negative integer, got ${offset}`);
  }
  if (length !== undefined && (!Number.isSafeInteger(length) || length <= 0)) {
    throw new InvalidRangeError(key, `length must be a positive integer, got ${length}`);
  }
  if (offset >= size) {
    throw new InvalidRangeError(key, `offset ${offset} is at or past the end of a ${size}-byte object`);
  }
  return { start: offset, end: length === undefined ? size : Math.min(size, offset + length) };
}
