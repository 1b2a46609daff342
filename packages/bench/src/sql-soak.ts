import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistory, collect, type HistoryTxn, spawnTs } from '@bucketdb/testkit';

const CHILD = new URL('../../sql/src/history.child.ts', import.meta.url);

export interface SoakResult {
  processes: number;
  transactions: number;
  committed: number;
  failed: number;
  unknown: number;
  anomalies: number;
  anomalyTypes: string;
  integrityFailures: number;
  seconds: number;
}

async function child(args: string[]): Promise<Record<string, unknown>> {
  const result = await collect(spawnTs(CHILD, args));
  if (result.code !== 0) throw new Error(`soak process failed (${result.code}): ${result.stderr}`);
  const last = result.stdout.trim().split('\n').at(-1);
  return last ? (JSON.parse(last) as Record<string, unknown>) : {};
}

/**
 * The SQL soak: `processes` processes with two handles each on one file store, every handle's
 * store wrapped in seeded faults, running the randomized history workload (DDL races, read-only
 * and interactive transactions, pipelined calls) for about `transactions` transactions in all;
 * the history is checked by testkit's checker (target: 0 anomalies).
 */
export async function sqlSoak(transactions: number, processes = 4, seed = 1): Promise<SoakResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bucketdb-sql-soak-'));
  try {
    const workers = 4;
    const o = {
      listKeys: 120,
      registers: 24,
      tables: 8,
      workersPerHandle: workers,
      txnsPerWorker: Math.ceil(transactions / (processes * 2 * workers)),
    };
    await child([dir, '0', String(seed), JSON.stringify(o), 'setup']);
    const t0 = performance.now();
    // Every process ends before the directory goes, even when one of them fails.
    const settled = await Promise.allSettled(
      Array.from({ length: processes }, (_, p) =>
        child([dir, String(p + 1), String(seed * 100 + p), JSON.stringify(o), 'run']),
      ),
    );
    const failure = settled.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    const runs = settled.map((r) => (r as PromiseFulfilledResult<Record<string, unknown>>).value);
    const seconds = (performance.now() - t0) / 1000;
    const end = await child([dir, '0', String(seed), JSON.stringify(o), 'final']);
    const history = runs.flatMap((r) => r.history as HistoryTxn[]);
    history.push(end.final as HistoryTxn);
    const integrity = [...runs.flatMap((r) => r.integrity as string[]), ...(end.integrity as string[])];
    const { anomalies, counts } = checkHistory(history);
    return {
      processes,
      transactions: history.length - 1,
      committed: counts.ok ?? 0,
      failed: counts.fail ?? 0,
      unknown: counts.unknown ?? 0,
      anomalies: anomalies.length,
      anomalyTypes: [...new Set(anomalies.map((a) => a.type))].join(' ') || '-',
      integrityFailures: integrity.length,
      seconds,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
