import type { ByteRange } from '@bucketdb/store';

/** A byte range as a Range header asks for it (a suffix, or an offset and maybe a length). */
export type RequestedRange = ByteRange;
import { S3Error } from '../s3-error.js';

/**
 * Parses `Range: bytes=a-b | a- | -n`. Syntax S3 ignores (other units, several ranges, a > b)
 * gives undefined: the whole object is served.
 */
export function parseRangeHeader(value: string | undefined): ByteRange | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!match) return undefined;
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return undefined;
  // An end (or suffix) beyond 2^53 reaches past any object's end, as an end at 2^53 does: GET and
  // HEAD then serve the same 206. A start that large is past every object's end: 416 for both.
  if (from === '') return { suffix: safe(to) };
  const offset = Number(from);
  if (to === '') return { offset };
  const last = safe(to);
  if (last < offset) return undefined;
  return { offset, length: last - offset + 1 };
}

const safe = (digits: string) => Math.min(Number(digits), Number.MAX_SAFE_INTEGER - 1);

/** Inclusive start, exclusive end of a range within `size` bytes, or InvalidRange (416). */
export function resolveByteRange(range: ByteRange, size: number, rangeText: string): { start: number; end: number } {
  let start: number;
  let end: number;
  if ('suffix' in range) {
    start = Math.max(0, size - range.suffix);
    end = range.suffix > 0 ? size : start;
  } else {
    start = range.offset;
    end = range.length === undefined ? size : Math.min(size, range.offset + range.length);
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start >= size || end <= start) {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', {
      RangeRequested: rangeText.slice(0, 100),
      ActualObjectSize: String(size),
    });
  }
  return { start, end };
}
