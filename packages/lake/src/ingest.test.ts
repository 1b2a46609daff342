import { MemoryStore } from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { ingest, type IngestSource, keyedSource, Lake } from './index.js';

/** A source over an array that grows between runs, like a table receiving inserts. */
function arraySource(rows: { id: number; v: string }[]): IngestSource {
  return keyedSource('id', async (after, limit) =>
    rows.filter((r) => after === undefined || r.id > after).slice(0, limit),
  );
}

describe('ingest', () => {
  it('copies rows incrementally, exactly once, also when two ingesters race', async () => {
    const store = new MemoryStore('ingest');
    const lake = await Lake.open({ store });
    const other = await Lake.open({ store });
    try {
      const t = await lake.createTable('copy', { schema: { id: 'long', v: 'string' } });
      const source: { id: number; v: string }[] = Array.from({ length: 25 }, (_, i) => ({ id: i + 1, v: `r${i + 1}` }));
      const first = await ingest(t, arraySource(source), { appId: 'sql:main/items', batch: 10 });
      expect(first).toEqual({ rows: 25, batches: 3, position: 25 });
      source.push(...Array.from({ length: 40 }, (_, i) => ({ id: i + 26, v: `r${i + 26}` })));
      // Two ingesters of the same source at once: batches conflict, nothing lands twice.
      const [a, b] = await Promise.all([
        ingest(t, arraySource(source), { appId: 'sql:main/items', batch: 7 }),
        ingest(other.table('copy'), arraySource(source), { appId: 'sql:main/items', batch: 7 }),
      ]);
      expect(a.rows + b.rows).toBe(40);
      const { rows } = await lake.query('SELECT count(*) AS n, count(DISTINCT id) AS d, max(id) AS m FROM copy');
      expect(rows).toEqual([{ n: '65', d: '65', m: '65' }]);
      const again = await ingest(t, arraySource(source), { appId: 'sql:main/items' });
      expect(again).toEqual({ rows: 0, batches: 0, position: 65 });
      // The progress survives a checkpoint (txn actions are checkpointed).
      await t.checkpoint();
      const fresh = await Lake.open({ store });
      expect((await fresh.table('copy').snapshot()).txns.get('sql:main/items')?.version).toBe(65);
      await fresh.close();
    } finally {
      await lake.close();
      await other.close();
    }
  });

  it('does not load a batch twice when another ingester commits between its progress read and its append', async () => {
    const store = new MemoryStore('ingest-window');
    const lake = await Lake.open({ store });
    const other = await Lake.open({ store });
    try {
      const t = await lake.createTable('copy', { schema: { id: 'long', v: 'string' } });
      const source = Array.from({ length: 12 }, (_, i) => ({ id: i + 1, v: `r${i + 1}` }));
      let raced = false;
      // The first read hands back its batch only after the other ingester has loaded a smaller one
      // from the same position: the batches overlap, so loading ours would duplicate rows 1–3.
      const racing: IngestSource = {
        async read(after, limit) {
          const batch = await arraySource(source).read(after, limit);
          if (!raced) {
            raced = true;
            await ingest(other.table('copy'), arraySource(source.slice(0, 3)), { appId: 'app', batch: 3 });
          }
          return batch;
        },
      };
      const result = await ingest(t, racing, { appId: 'app', batch: 5 });
      expect(result.position).toBe(12);
      expect(result.rows).toBe(9);
      const { rows } = await lake.query('SELECT count(*) AS n, count(DISTINCT id) AS d FROM copy');
      expect(rows).toEqual([{ n: '12', d: '12' }]);
    } finally {
      await lake.close();
      await other.close();
    }
  });

  it('an append whose recorded progress moved since the caller read it is a ConcurrentTransaction conflict', async () => {
    const store = new MemoryStore('ingest-txn');
    const lake = await Lake.open({ store });
    try {
      const t = await lake.createTable('copy', { schema: { id: 'long' } });
      await t.append([{ id: 1 }], { txn: { appId: 'app', version: 1, after: undefined } });
      await expect(
        t.append([{ id: 1 }], { txn: { appId: 'app', version: 1, after: undefined } }),
      ).rejects.toMatchObject({
        code: 'CommitConflict',
        kind: 'ConcurrentTransaction',
      });
      await expect(t.append([{ id: 1 }], { txn: { appId: 'app', version: 1 } })).rejects.toMatchObject({
        kind: 'ConcurrentTransaction',
      });
      await t.append([{ id: 2 }], { txn: { appId: 'app', version: 2, after: 1 } });
      expect((await t.snapshot()).txns.get('app')?.version).toBe(2);
    } finally {
      await lake.close();
    }
  });
});
