import { describe, expect, it } from 'vitest';
import { checkHistory, type HistoryOp, type HistoryTxn } from './history-checker.js';

let nextId = 0;
const txn = (start: number, end: number, ops: HistoryOp[], status: HistoryTxn['status'] = 'ok'): HistoryTxn => ({
  id: ++nextId,
  process: 'p',
  start,
  end,
  status,
  ops,
});
const types = (h: HistoryTxn[]) => checkHistory(h).anomalies.map((a) => a.type);

describe('checkHistory', () => {
  it('accepts a serial history', () => {
    const h = [
      txn(0, 1, [{ f: 'append', key: 'x', value: 1 }]),
      txn(2, 3, [
        { f: 'read', key: 'x', value: [1] },
        { f: 'append', key: 'x', value: 2 },
      ]),
      txn(4, 5, [{ f: 'write', key: 'r', value: 7 }]),
      txn(6, 7, [
        { f: 'read', key: 'x', value: [1, 2] },
        { f: 'get', key: 'r', value: 7 },
      ]),
    ];
    expect(checkHistory(h).anomalies).toEqual([]);
  });

  it('finds G0: two transactions appending to two keys in opposite orders', () => {
    const a = txn(0, 10, [
      { f: 'append', key: 'x', value: 1 },
      { f: 'append', key: 'y', value: 2 },
    ]);
    const b = txn(0, 10, [
      { f: 'append', key: 'x', value: 3 },
      { f: 'append', key: 'y', value: 4 },
    ]);
    const r = txn(20, 21, [
      { f: 'read', key: 'x', value: [1, 3] },
      { f: 'read', key: 'y', value: [4, 2] },
    ]);
    expect(types([a, b, r])).toContain('G0');
  });

  it('finds G1c: each reads the other', () => {
    const a = txn(0, 10, [
      { f: 'append', key: 'x', value: 1 },
      { f: 'read', key: 'y', value: [2] },
    ]);
    const b = txn(0, 10, [
      { f: 'append', key: 'y', value: 2 },
      { f: 'read', key: 'x', value: [1] },
    ]);
    expect(types([a, b])).toContain('G1c');
  });

  it('finds G2: write skew', () => {
    const a = txn(0, 10, [
      { f: 'read', key: 'y', value: [] },
      { f: 'append', key: 'x', value: 1 },
    ]);
    const b = txn(0, 10, [
      { f: 'read', key: 'x', value: [] },
      { f: 'append', key: 'y', value: 2 },
    ]);
    const r = txn(20, 21, [
      { f: 'read', key: 'x', value: [1] },
      { f: 'read', key: 'y', value: [2] },
    ]);
    expect(types([a, b, r])).toEqual(['G2']);
  });

  it('finds a stale read as a real-time violation, and a session-order one', () => {
    const w = txn(0, 1, [{ f: 'append', key: 'x', value: 1 }]);
    const r = txn(5, 6, [{ f: 'read', key: 'x', value: [] }]);
    const last = txn(7, 8, [{ f: 'read', key: 'x', value: [1] }]);
    expect(types([w, r, last])).toEqual(['realtime']);
    const s1 = { ...txn(0, 10, [{ f: 'append', key: 'y', value: 1 }]), session: 'h', issue: 1 };
    const s2 = { ...txn(0, 10, [{ f: 'read', key: 'y', value: [] }]), session: 'h', issue: 2 };
    const end = txn(20, 21, [{ f: 'read', key: 'y', value: [1] }]);
    expect(types([s1, s2, end])).toEqual(['realtime']);
  });

  it('finds lost and duplicated writes, aborted reads, garbage, incompatible orders and unexpected errors', () => {
    const lost = txn(0, 1, [{ f: 'append', key: 'x', value: 1 }]);
    const failed = txn(0, 1, [{ f: 'append', key: 'y', value: 5 }], 'fail');
    const reads = txn(2, 3, [
      { f: 'read', key: 'x', value: [] },
      { f: 'read', key: 'y', value: [5, 5] },
      { f: 'get', key: 'r', value: 99 },
    ]);
    const other = txn(2, 3, [{ f: 'read', key: 'y', value: [6] }]);
    const w6 = txn(0, 1, [{ f: 'append', key: 'y', value: 6 }]);
    const broken = { ...txn(0, 1, [], 'fail'), unexpectedError: 'disk I/O error' };
    const found = new Set(types([lost, failed, reads, other, w6, broken]));
    for (const t of ['lost-write', 'duplicate', 'G1a', 'garbage-read', 'incompatible-order', 'unexpected-error']) {
      expect(found).toContain(t);
    }
  });

  it('counts an unknown transaction only when one of its writes was observed', () => {
    const u = txn(0, 1, [{ f: 'append', key: 'x', value: 1 }], 'unknown');
    const seen = txn(5, 6, [{ f: 'read', key: 'x', value: [1] }]);
    expect(types([u, seen])).toEqual([]);
    const unseen = txn(5, 6, [{ f: 'read', key: 'x', value: [] }]);
    expect(types([txn(0, 1, [{ f: 'append', key: 'x', value: 2 }], 'unknown'), unseen])).toEqual([]);
  });
});
