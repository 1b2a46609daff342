import { CorruptError } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { type ChunkRef, Segment } from './checkpoint-format.js';

/** Refs over three chunks with all-zero pages between, offsets and CRCs above 2^31 included. */
function sampleRefs(count: number): (ChunkRef | undefined)[] {
  return Array.from({ length: count }, (_, i) =>
    i % 7 === 3
      ? undefined
      : { key: `chunks/c-${i % 3}`, offset: i * 4099, length: 900 + i, crc: (0xfffffff0 - i) >>> 0 },
  );
}

test('a segment answers every ref it was built from, before and after its encoding', () => {
  const refs = sampleRefs(500);
  const built = Segment.of(1001, refs);
  const decoded = Segment.decode(built.encode(), 'test');
  for (const seg of [built, decoded]) {
    expect(seg.firstPage).toBe(1001);
    expect(seg.count).toBe(500);
    expect([...seg.refs()]).toEqual(refs);
    expect([...seg.chunkKeys].sort()).toEqual(['chunks/c-0', 'chunks/c-1', 'chunks/c-2']);
    expect(seg.ref(500)).toBeUndefined();
  }
  // Encoding is deterministic: a decoded segment re-encodes to the same bytes.
  expect(decoded.encode()).toEqual(built.encode());
});

test('a segment of only all-zero pages names no chunk', () => {
  const seg = Segment.decode(Segment.of(1, [undefined, undefined]).encode(), 'test');
  expect(seg.chunkKeys).toEqual([]);
  expect([...seg.refs()]).toEqual([undefined, undefined]);
});

test('a damaged segment is a CorruptError naming it, never a wrong page map', () => {
  const bytes = Segment.of(1, sampleRefs(20)).encode();
  const flipped = bytes.slice();
  flipped[40] = (flipped[40] as number) ^ 1;
  expect(() => Segment.decode(flipped, 'segment s-1')).toThrow(CorruptError);
  expect(() => Segment.decode(flipped, 'segment s-1')).toThrow(/segment s-1/);
  expect(() => Segment.decode(bytes.subarray(0, bytes.length - 20), 'segment s-2')).toThrow(CorruptError);
});
