/**
 * Page 1 starts with SQLite's database header. Every write transaction bumps its file change
 * counter (bytes 24..27, mirrored at 92..95), so all concurrent transactions "change" page 1. A
 * conflict on page 1 is therefore judged on the rest of the page: if another commit changed only
 * the counter, a transaction can still commit at the new tail, with the counter fixed up.
 */
const COUNTER = 24;
const VALID_FOR = 92;

export function changeCounter(page1: Uint8Array): number {
  return new DataView(page1.buffer, page1.byteOffset, page1.length).getUint32(COUNTER, false);
}

/** A copy of `page1` with the change counter (and its mirror) set to `counter`. */
export function withChangeCounter(page1: Uint8Array, counter: number): Uint8Array {
  const out = page1.slice();
  const view = new DataView(out.buffer);
  view.setUint32(COUNTER, counter >>> 0, false);
  view.setUint32(VALID_FOR, counter >>> 0, false);
  return out;
}

/** Whether two images of page 1 are equal apart from the change counter (checked once per commit: native compares). */
export function samePage1(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a === b) return true;
  if (a.length !== b.length) return false;
  const same = (from: number, to: number) => Buffer.compare(a.subarray(from, to), b.subarray(from, to)) === 0;
  return same(0, COUNTER) && same(COUNTER + 4, VALID_FOR) && same(VALID_FOR + 4, a.length);
}
