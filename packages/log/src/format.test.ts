import { crc32c } from '@aws-crypto/crc32c';
import { MemoryStore } from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.js';
import { isLogError, type LogErrorCode } from './errors.js';
import { bytes, text } from './fixtures/deterministic.js';
import { decodeFrame, encodeFrame, FRAME_FORMAT_VERSION } from './frame.js';
import { decodeRecord, encodeRecord, type LogRecord } from './record.js';

const record: LogRecord = {
  version: 7,
  commitId: 'c-7',
  timestamp: 1234,
  epoch: 3,
  entries: [bytes('first'), new Uint8Array(0), bytes('third')],
};

/** Rewrites the checksum so that only the deliberate change is wrong. */
function resealed(frame: Uint8Array): Uint8Array {
  const copy = frame.slice();
  new DataView(copy.buffer).setUint32(12, crc32c(copy.subarray(16)), true);
  return copy;
}

function withHeader(header: unknown, payload: Uint8Array[] = []): Uint8Array {
  return encodeFrame('record', header, payload);
}

const expectCode = (fn: () => unknown, code: LogErrorCode) =>
  expect(fn).toThrow(expect.objectContaining({ name: 'LogError', code }));

describe('record format', () => {
  it('round-trips a record, entries and all', () => {
    const decoded = decodeRecord(encodeRecord(record), 7, 'log/7');
    expect({ ...decoded, entries: decoded.entries.map(text) }).toEqual({ ...record, entries: ['first', '', 'third'] });
  });

  it('detects a flipped bit anywhere in the body', () => {
    const encoded = encodeRecord(record);
    for (let i = 16; i < encoded.length; i += 5) {
      const damaged = encoded.slice();
      damaged[i] = (damaged[i] as number) ^ 0x10;
      expectCode(() => decodeRecord(damaged, 7, 'log/7'), 'Corrupt');
    }
  });

  it('detects truncation and trailing bytes at every length', () => {
    const encoded = encodeRecord(record);
    for (let n = 0; n < encoded.length; n++) {
      expectCode(() => decodeRecord(encoded.subarray(0, n), 7, 'log/7'), 'Corrupt');
    }
    const longer = new Uint8Array(encoded.length + 1);
    longer.set(encoded);
    expectCode(() => decodeRecord(longer, 7, 'log/7'), 'Corrupt');
  });

  it('refuses a newer format version or unknown flags, whatever follows', () => {
    for (const [offset, value] of [
      [4, FRAME_FORMAT_VERSION + 1],
      [6, 1],
    ] as const) {
      const newer = encodeRecord(record);
      new DataView(newer.buffer).setUint16(offset, value, true);
      expectCode(() => decodeRecord(newer, 7, 'log/7'), 'UnsupportedFormat');
      // Even when the rest is not what version 1 would accept.
      expectCode(() => decodeRecord(newer.subarray(0, 10), 7, 'log/7'), 'UnsupportedFormat');
    }
  });

  it('refuses other kinds of object, a record in the wrong slot, and invalid headers', () => {
    expectCode(() => decodeRecord(encodeFrame('checkpoint', {}), 7, 'log/7'), 'Corrupt');
    expectCode(() => decodeRecord(bytes('{"version":7}'), 7, 'log/7'), 'Corrupt');
    expectCode(() => decodeRecord(encodeRecord(record), 8, 'log/8'), 'Corrupt');
    const valid = { version: 7, commitId: 'c', timestamp: 1, entryLengths: [2] };
    expect(decodeRecord(withHeader(valid, [bytes('ab')]), 7, 'k').entries.map(text)).toEqual(['ab']);
    for (const bad of [
      { ...valid, commitId: '' },
      { ...valid, timestamp: 'soon' },
      { ...valid, epoch: 1.5 },
      { ...valid, entryLengths: [3] },
      { ...valid, entryLengths: [1] },
      { ...valid, entryLengths: [-1, 3] },
      { ...valid, entryLengths: 'all' },
    ]) {
      expectCode(() => decodeRecord(withHeader(bad, [bytes('ab')]), 7, 'k'), 'Corrupt');
    }
    expectCode(() => decodeRecord(withHeader([1, 2]), 7, 'k'), 'Corrupt');
  });

  it('refuses a header that is not JSON even with a valid checksum', () => {
    const frame = withHeader({ version: 7 });
    frame[20] = 0x7b; // '{' stays, then garble the next byte
    frame[21] = 0xff;
    expectCode(() => decodeFrame('record', resealed(frame), 'k'), 'Corrupt');
  });
});

describe('stored corruption surfaces through the log', () => {
  const cases: [string, (good: Uint8Array) => Uint8Array, LogErrorCode][] = [
    ['a flipped bit', (g) => g.map((b, i) => (i === g.length - 1 ? b ^ 1 : b)), 'Corrupt'],
    ['a truncated object', (g) => g.subarray(0, g.length - 3), 'Corrupt'],
    ['an empty object', () => new Uint8Array(0), 'Corrupt'],
    ['a newer format', (g) => withFormatVersion(g, FRAME_FORMAT_VERSION + 1), 'UnsupportedFormat'],
  ];

  it.each(cases)('%s in a record stops catch-up and reads with %s', async (_, damage, code) => {
    const store = new MemoryStore();
    const writer = await CommitLog.open(store);
    for (let v = 1; v <= 3; v++) await writer.tryAppend([bytes(`e${v}`)], v);
    const key = writer.paths.record(2);
    await store.put(key, damage((await store.get(key)).body));

    const reader = await CommitLog.open(store);
    const heard: number[] = [];
    reader.onRecords((records) => heard.push(...records.map((r) => r.version)));
    // Record 1 is fine and is seen (listeners hear it); catch-up still fails, never stopping short quietly.
    await expect(reader.catchUp()).rejects.toSatisfy((e) => isLogError(e, code) && e.key === key);
    expect(heard).toEqual([1]);
    await expect(reader.catchUp()).rejects.toSatisfy((e) => isLogError(e, code) && e.key === key);
    expect(reader.version).toBe(1);
    await expect(reader.read(2)).rejects.toSatisfy((e) => isLogError(e, code));
    await expect(reader.confirmTail()).rejects.toSatisfy((e) => isLogError(e, code));
    // A writer losing the slot to a corrupt record does not take it as its own.
    await expect(reader.tryAppend([bytes('x')], 2)).rejects.toSatisfy((e) => isLogError(e, code));
    expect(reader.version).toBe(1);
  });

  it.each(cases)('%s in a checkpoint manifest is reported as %s', async (_, damage, code) => {
    const store = new MemoryStore();
    const log = await CommitLog.open(store);
    await log.writeCheckpoint(5, bytes('state at 5'));
    const key = log.paths.manifest(5);
    await store.put(key, damage((await store.get(key)).body));
    await expect(log.latestCheckpoint()).rejects.toSatisfy((e) => isLogError(e, code) && e.key === key);
  });
});

function withFormatVersion(frame: Uint8Array, version: number): Uint8Array {
  const copy = frame.slice();
  new DataView(copy.buffer).setUint16(4, version, true);
  return copy;
}
