/**
 * A black-box checker of transaction histories in the style of Elle: list-append keys (whose
 * reads reveal the order of every write to the key) and read/write registers, with the
 * real-time order of the transactions. It builds the dependency graph (ww, wr, rw, real time,
 * and optionally session order), finds its cycles and names them:
 *
 * - G0: a cycle of write-write edges; G1c: write-write and write-read; G2: with anti-dependencies
 *   (rw); realtime: a cycle only real-time or session order closes (a stale read, say).
 * - G1a: a read of a value written by a transaction that failed.
 * - incompatible-order: two reads of a key that are not prefixes of one another.
 * - lost-write: an acknowledged append missing from the longest read of its key (end the history
 *   with a read of every key so that this is meaningful); duplicate: a value read twice in a list.
 * - garbage-read: a value nobody wrote. unexpected-error: a transaction that failed in a way the
 *   database does not promise (anything but a conflict or an explicitly unknown outcome).
 *
 * Values must be unique per key. Transactions with an unknown outcome count as committed when a
 * read observed one of their writes, and are left out otherwise.
 */

export type HistoryOp =
  | { f: 'append'; key: string; value: number }
  | { f: 'read'; key: string; value: number[] }
  | { f: 'write'; key: string; value: number }
  | { f: 'get'; key: string; value: number | null };

export interface HistoryTxn {
  id: number;
  /** Who ran it (a handle or process), for reports. */
  process: string;
  /** Real time in any unit shared by every process of the history (e.g. µs of a monotonic clock). */
  start: number;
  end: number;
  /** ok: committed; fail: certainly not committed; unknown: may have committed. */
  status: 'ok' | 'fail' | 'unknown';
  ops: HistoryOp[];
  /** Calls of one session must take effect in `issue` order (e.g. calls issued on one handle). */
  session?: string;
  issue?: number;
  /** For a failed transaction whose error the database does not promise: its message. */
  unexpectedError?: string;
}

export type AnomalyType =
  | 'G0'
  | 'G1a'
  | 'G1c'
  | 'G2'
  | 'realtime'
  | 'incompatible-order'
  | 'lost-write'
  | 'duplicate'
  | 'garbage-read'
  | 'unexpected-error';

export interface Anomaly {
  type: AnomalyType;
  detail: string;
  txns: number[];
}

export interface CheckResult {
  anomalies: Anomaly[];
  /** Transactions by status, and edges of the graph by kind. */
  counts: Record<string, number>;
}

type EdgeKind = 'ww' | 'wr' | 'rw' | 'rt';
const LEVELS: { type: AnomalyType; kinds: EdgeKind[] }[] = [
  { type: 'G0', kinds: ['ww'] },
  { type: 'G1c', kinds: ['ww', 'wr'] },
  { type: 'G2', kinds: ['ww', 'wr', 'rw'] },
  { type: 'realtime', kinds: ['ww', 'wr', 'rw', 'rt'] },
];

/** Checks a history; the anomalies list is empty for a strictly serializable one. */
export function checkHistory(history: readonly HistoryTxn[], options: { maxReports?: number } = {}): CheckResult {
  const maxReports = options.maxReports ?? 20;
  const anomalies: Anomaly[] = [];
  const report = (a: Anomaly) => {
    if (anomalies.filter((x) => x.type === a.type).length < maxReports) anomalies.push(a);
  };
  const counts: Record<string, number> = { ok: 0, fail: 0, unknown: 0, ww: 0, wr: 0, rw: 0, rt: 0 };
  for (const t of history) {
    counts[t.status] = (counts[t.status] ?? 0) + 1;
    if (t.unexpectedError !== undefined) {
      report({ type: 'unexpected-error', detail: `${t.process}: ${t.unexpectedError}`, txns: [t.id] });
    }
  }

  // Who wrote each value.
  const writer = new Map<string, HistoryTxn>();
  const vkey = (key: string, value: number) => `${key}\u0000${value}`;
  for (const t of history) {
    for (const op of t.ops) {
      if (op.f === 'append' || op.f === 'write') writer.set(vkey(op.key, op.value), t);
    }
  }

  // Version order of each list key: its longest read; every read must be a prefix of it.
  const order = new Map<string, number[]>();
  for (const t of history) {
    if (t.status !== 'ok') continue;
    for (const op of t.ops) {
      if (op.f !== 'read') continue;
      const longest = order.get(op.key);
      if (!longest || op.value.length > longest.length) order.set(op.key, op.value);
    }
  }
  const observed = new Set<string>();
  for (const t of history) {
    if (t.status !== 'ok') continue;
    for (const op of t.ops) {
      if (op.f === 'read') {
        const longest = order.get(op.key) ?? [];
        if (op.value.some((v, i) => longest[i] !== v)) {
          report({
            type: 'incompatible-order',
            detail: `key ${op.key}: [${op.value}] is not a prefix of [${longest}]`,
            txns: [t.id],
          });
        }
        const seen = new Set<number>();
        for (const v of op.value) {
          if (seen.has(v))
            report({ type: 'duplicate', detail: `key ${op.key}: ${v} twice in [${op.value}]`, txns: [t.id] });
          seen.add(v);
        }
      }
      if (op.f === 'read' || op.f === 'get') {
        for (const v of op.f === 'read' ? op.value : op.value === null ? [] : [op.value]) {
          const w = writer.get(vkey(op.key, v));
          observed.add(vkey(op.key, v));
          if (!w) report({ type: 'garbage-read', detail: `key ${op.key}: ${v} was never written`, txns: [t.id] });
          else if (w.status === 'fail') {
            report({ type: 'G1a', detail: `key ${op.key}: read ${v} of failed txn ${w.id}`, txns: [w.id, t.id] });
          }
        }
      }
    }
  }
  for (const t of history) {
    if (t.status !== 'ok') continue;
    for (const op of t.ops) {
      if (op.f === 'append' && !(order.get(op.key) ?? []).includes(op.value)) {
        report({ type: 'lost-write', detail: `key ${op.key}: acknowledged ${op.value} never read`, txns: [t.id] });
      }
    }
  }

  // The graph over committed transactions (unknown ones count when observed).
  const committed = history.filter(
    (t) =>
      t.status === 'ok' ||
      (t.status === 'unknown' &&
        t.ops.some((op) => (op.f === 'append' || op.f === 'write') && observed.has(vkey(op.key, op.value)))),
  );
  const index = new Map<number, number>(committed.map((t, i) => [t.id, i]));
  const n = committed.length;
  const edges: { from: number; to: number; kind: EdgeKind }[] = [];
  const edge = (a: HistoryTxn | undefined, b: HistoryTxn | undefined, kind: EdgeKind) => {
    const from = a && index.get(a.id);
    const to = b && index.get(b.id);
    if (from === undefined || to === undefined || from === to) return;
    edges.push({ from, to, kind });
    counts[kind] = (counts[kind] ?? 0) + 1;
  };
  for (const [key, values] of order) {
    for (let i = 1; i < values.length; i++) {
      edge(writer.get(vkey(key, values[i - 1] as number)), writer.get(vkey(key, values[i] as number)), 'ww');
    }
  }
  for (const t of committed) {
    for (const op of t.ops) {
      if (op.f === 'read') {
        const values = order.get(op.key) ?? [];
        const last = op.value.at(-1);
        if (last !== undefined) edge(writer.get(vkey(op.key, last)), t, 'wr');
        const next = values[op.value.length];
        if (next !== undefined) edge(t, writer.get(vkey(op.key, next)), 'rw');
      } else if (op.f === 'get' && op.value !== null) {
        edge(writer.get(vkey(op.key, op.value)), t, 'wr');
      }
    }
  }
  // Real time as a chain of end events: T -> end(T) -> later ends -> every T' starting after.
  const ends = committed.map((t, i) => ({ at: t.end, i })).sort((a, b) => a.at - b.at);
  const endNode = (k: number) => n + k;
  ends.forEach((e, k) => {
    edges.push({ from: e.i, to: endNode(k), kind: 'rt' });
    if (k > 0) edges.push({ from: endNode(k - 1), to: endNode(k), kind: 'rt' });
  });
  committed.forEach((t, i) => {
    // The last end strictly before t started.
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ends[mid] as { at: number }).at < t.start) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) edges.push({ from: endNode(lo - 1), to: i, kind: 'rt' });
  });
  // Session order: consecutive calls of a session.
  const sessions = new Map<string, HistoryTxn[]>();
  for (const t of committed) {
    if (t.session !== undefined && t.issue !== undefined)
      sessions.set(t.session, [...(sessions.get(t.session) ?? []), t]);
  }
  for (const calls of sessions.values()) {
    calls.sort((a, b) => (a.issue as number) - (b.issue as number));
    for (let i = 1; i < calls.length; i++) edge(calls[i - 1], calls[i], 'rt');
  }

  const reported = new Set<number>();
  for (const level of LEVELS) {
    const kinds = new Set(level.kinds);
    for (const scc of cycles(
      n + ends.length,
      edges.filter((e) => kinds.has(e.kind)),
    )) {
      const txns = scc.filter((v) => v < n);
      if (txns.length < 2 || txns.every((v) => reported.has(v))) continue;
      for (const v of txns) reported.add(v);
      const ids = txns.map((v) => (committed[v] as HistoryTxn).id);
      report({
        type: level.type,
        detail: `cycle among ${txns.length} txns: ${txns
          .slice(0, 6)
          .map((v) => describe(committed[v] as HistoryTxn))
          .join(' | ')}`,
        txns: ids,
      });
    }
  }
  return { anomalies, counts };
}

function describe(t: HistoryTxn): string {
  const ops = t.ops.map((op) => `${op.f} ${op.key}=${JSON.stringify(op.value)}`).join(', ');
  return `#${t.id} ${t.process} [${t.start}..${t.end}] ${ops}`;
}

/** Strongly connected components with more than one node (Tarjan, iterative). */
function cycles(nodes: number, edges: readonly { from: number; to: number }[]): number[][] {
  const adj: number[][] = Array.from({ length: nodes }, () => []);
  for (const e of edges) (adj[e.from] as number[]).push(e.to);
  const idx = new Int32Array(nodes).fill(-1);
  const low = new Int32Array(nodes);
  const onStack = new Uint8Array(nodes);
  const stack: number[] = [];
  const out: number[][] = [];
  let counter = 0;
  for (let root = 0; root < nodes; root++) {
    if (idx[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    idx[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length > 0) {
      const frame = work[work.length - 1] as [number, number];
      const [v, i] = frame;
      const next = (adj[v] as number[])[i];
      if (next !== undefined) {
        frame[1]++;
        if (idx[next] === -1) {
          idx[next] = low[next] = counter++;
          stack.push(next);
          onStack[next] = 1;
          work.push([next, 0]);
        } else if (onStack[next]) {
          low[v] = Math.min(low[v] as number, idx[next] as number);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]] as number, low[v] as number);
      if (low[v] === idx[v]) {
        const scc: number[] = [];
        for (;;) {
          const w = stack.pop() as number;
          onStack[w] = 0;
          scc.push(w);
          if (w === v) break;
        }
        if (scc.length > 1) out.push(scc);
      }
    }
  }
  return out;
}
