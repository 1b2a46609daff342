import { chaos, MemoryStore, type ObjectStore } from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { isLakeError, Lake, type LakeOptions, parseActions } from './index.js';
import { logPrefix } from './paths.js';

/**
 * Randomized checker: writers append and delete concurrently through a seeded chaos store (faults
 * before and after requests, delays, reordering). Whatever the interleaving, the final table must
 * be explainable: commits contiguous and each applied once; acknowledged operations applied; a
 * refused (conflict) operation not applied; an operation whose outcome is unknown applied whole
 * or not at all; no row twice.
 */
const WRITERS = 3;
const OPS = 4;
const INITIAL = 200;

type Outcome = 'ok' | 'refused' | 'unknown';
interface Op {
  kind: 'append' | 'delete';
  writer: number;
  ids: number[];
  outcome: Outcome;
  retries?: number;
}

async function scenario(seed: number, unsafe?: LakeOptions['unsafe']): Promise<string[]> {
  const base = new MemoryStore(`chaos-${seed}`);
  const setup = await Lake.open({ store: base });
  const t = await setup.createTable('t', { schema: { id: 'long', w: 'integer' } });
  await t.append(
    Array.from({ length: INITIAL }, (_, id) => ({ id, w: -1 })),
    { rowsPerFile: 50 },
  );
  await setup.close();
  const ops: Op[] = [];
  const writers = Array.from({ length: WRITERS }, async (_, w) => {
    const store = chaos(base, {
      seed: `${seed}/${w}`,
      // Faults on writes (data files and commits); reads only slow down and reorder.
      faults: { delay: 0.2, reorder: 0.3 },
      ops: { put: { before: 0.08, after: 0.08 } },
      delayMs: { min: 0, max: 5 },
    });
    const lake = await Lake.open({ store, checkpointInterval: 5, ...(unsafe ? { unsafe } : {}) });
    try {
      for (let k = 0; k < OPS; k++) {
        const del = k % 2 === 1;
        const op: Op = del
          ? {
              kind: 'delete',
              writer: w,
              // Writer w, step k deletes initial ids ≡ w (mod WRITERS) in its own band of 100.
              ids: Array.from({ length: INITIAL }, (_, i) => i).filter(
                (i) => i % WRITERS === w && Math.floor(i / 100) === (k - 1) / 2,
              ),
              outcome: 'unknown',
            }
          : {
              kind: 'append',
              writer: w,
              ids: Array.from({ length: 5 }, (_, i) => 1000 + w * 100 + k * 10 + i),
              outcome: 'unknown',
            };
        ops.push(op);
        try {
          if (del) {
            const band = (k - 1) / 2;
            const r = await lake
              .table('t')
              .delete(`id % ${WRITERS} = ${w} AND id >= ${band * 100} AND id < ${band * 100 + 100}`, { retries: 8 });
            op.retries = r.retries;
          } else {
            await lake.table('t').append(op.ids.map((id) => ({ id, w })));
          }
          op.outcome = 'ok';
        } catch (e) {
          op.outcome = isLakeError(e, 'CommitConflict') ? 'refused' : 'unknown';
        }
      }
    } finally {
      await lake.close();
    }
  });
  await Promise.all(writers);
  if (process.env.LAKE_DEBUG)
    console.log(seed, JSON.stringify(ops.map((o) => `${o.kind[0]}${o.writer}:${o.outcome}:${o.retries ?? ''}`)));
  return check(base, ops);
}

async function check(base: ObjectStore, ops: readonly Op[]): Promise<string[]> {
  const problems: string[] = [];
  const txns = new Set<string>();
  const versions: number[] = [];
  for await (const e of base.list({ prefix: logPrefix('t') })) {
    if (e.kind !== 'object') continue;
    const m = /(\d{20})\.json$/.exec(e.key);
    if (!m) continue;
    versions.push(Number(m[1]));
    const info = parseActions((await base.get(e.key)).body, e.key).find((a) => 'commitInfo' in a);
    const txn = info && 'commitInfo' in info ? info.commitInfo.txnId : undefined;
    if (txn && txns.has(txn)) problems.push(`transaction ${txn} committed twice`);
    if (txn) txns.add(txn);
  }
  versions.forEach((v, i) => v !== i && problems.push(`version ${i} missing`));
  const reader = await Lake.open({ store: base });
  const { rows } = await reader.query('SELECT id FROM t');
  await reader.close();
  const count = new Map<number, number>();
  for (const r of rows) count.set(Number(r['id']), (count.get(Number(r['id'])) ?? 0) + 1);
  for (const [id, n] of count) if (n > 1) problems.push(`row ${id} appears ${n} times`);
  const deletedMaybe = new Set(ops.filter((o) => o.kind === 'delete' && o.outcome !== 'refused').flatMap((o) => o.ids));
  for (let id = 0; id < INITIAL; id++) {
    if (!deletedMaybe.has(id) && !count.has(id)) problems.push(`row ${id} lost`);
  }
  for (const o of ops) {
    const present = o.ids.filter((id) => count.has(id)).length;
    const applied = o.kind === 'append' ? present === o.ids.length : present === 0;
    const untouched = o.kind === 'append' ? present === 0 : present === o.ids.length;
    if (o.outcome === 'ok' && !applied) problems.push(`acknowledged ${o.kind} of writer ${o.writer} not applied`);
    if (o.outcome === 'refused' && o.kind === 'append' && !untouched) problems.push(`refused append applied`);
    if (o.outcome === 'unknown' && !applied && !untouched)
      problems.push(`${o.kind} of writer ${o.writer} half applied`);
  }
  return problems;
}

describe('concurrent writers under faults', () => {
  it('never lose, duplicate or half-apply a commit (seeded interleavings)', async () => {
    for (const seed of [1, 2, 3]) {
      expect(await scenario(seed), `seed ${seed}`).toEqual([]);
    }
  });

  it('the checker catches a build that does not resolve ambiguous commit PUTs', async () => {
    const found: string[] = [];
    for (let seed = 1; seed <= 8 && found.length === 0; seed++) {
      found.push(...(await scenario(seed, { skipCommitResolution: true })));
    }
    expect(found.join('\n')).toMatch(/committed twice|appears \d+ times/);
  });

  it('the checker catches a build that skips the conflict rules', async () => {
    const found: string[] = [];
    for (let seed = 1; seed <= 8 && found.length === 0; seed++) {
      found.push(...(await scenario(seed, { skipConflictCheck: true })));
    }
    expect(found.join('\n')).toMatch(/not applied|half applied|lost/);
  });
});
