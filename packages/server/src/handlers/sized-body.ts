import { S3Error } from '../s3-error.js';

/**
 * Passes a body of unknown length through while its size stays within `min`..`max`. The byte
 * past `max` fails at once, so nothing more is read; a body short of `min` fails before it ends.
 * Either way a store write consuming it stores nothing.
 */
export async function* sizedBody(
  body: AsyncIterable<Uint8Array>,
  range: { min: number; max: number },
): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > range.max) {
      throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
        MaxSizeAllowed: String(range.max),
      });
    }
    yield chunk;
  }
  if (size < range.min) {
    throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
      ProposedSize: String(size),
      MinSizeAllowed: String(range.min),
    });
  }
}
