import { CommitLog, LogPaths, publishedCheckpoints, readGcFloor } from '@bucketdb/log';
import { chaos, type ObjectStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Database } from './database.js';
import { collectGarbage } from './gc.js';
import type { OpenOptions } from './options.js';

const RETENTION = 10 * 60_000;
const GRACE = 60_000;
const series = (n: number) =>
  `(with recursive c(value) as (select 1 union all select value + 1 from c where value < ${n}) select value from c)`;

interface Contents {
  acct: unknown[];
  ev: unknown[];
}
const contents = async (db: Database): Promise<Contents> => ({
  acct: await db.query('select id, bal from acct order by id'),
  ev: await db.query('select id, w from ev order by id'),
});

/** One transfer between two accounts plus an event row: the total balance never changes. */
function transfer(db: Database, i: number, who: string): Promise<void> {
  const from = (i % 20) + 1;
  const to = ((i * 7) % 20) + 1;
  return db.exec(`update acct set bal = bal - 3 where id = ${from};
    update acct set bal = bal + 3 where id = ${to};
    insert into ev(w, pad) values ('${who}${i}', hex(randomblob(${200 + ((i * 37) % 900)})));`);
}

async function recordKeys(store: ObjectStore): Promise<number[]> {
  const paths = new LogPaths('');
  const out: number[] = [];
  for await (const e of store.list({ prefix: paths.logDir })) {
    if (e.kind === 'object') out.push(paths.recordVersion(e.key) as number);
  }
  return out;
}

describe.each(testBackendNames())('garbage collection on %s', (name) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  test('keeps every version inside retention under concurrent writers, a pinned reader, a second GC and faults', async () => {
    const store = await backend.newStore();
    let now = Date.now();
    const clock = () => now;
    const options: OpenOptions = {
      checkpointEveryRecords: 4,
      segmentPages: 8,
      chunkBytes: 8192,
      retention: RETENTION,
      gcGrace: GRACE,
      clock,
    };
    await using a = await Database.create(store, options);
    await using b = await Database.create(store, options);
    await a.exec(`create table acct(id integer primary key, bal integer not null);
      create table ev(id integer primary key, w text, pad text);
      insert into acct(bal) select 100 from ${series(20)};`);
    const history = new Map<number, Contents>();
    for (let i = 0; i < 28; i++) {
      const db = i % 2 ? a : b;
      await transfer(db, i, i % 2 ? 'a' : 'b');
      const c = await contents(db);
      history.set(db.version, c);
    }
    await a.checkpoint();
    await b.checkpoint();

    // Nothing is old enough yet: a GC pass deletes nothing and raises no floor.
    const early = await collectGarbage(store, { retention: RETENTION, grace: GRACE, clock });
    expect(early.keys).toEqual([]);
    expect(early.raisedFloor).toBeUndefined();

    // Time moves on so that a middle checkpoint K leaves the retention window.
    const cps = await publishedCheckpoints(store);
    expect(cps.length).toBeGreaterThan(5);
    const k = cps[Math.floor(cps.length / 2)];
    if (!k) throw new Error('no checkpoint');
    now = k.timestamp + RETENTION;
    const floor = Math.max(...cps.filter((c) => c.timestamp <= k.timestamp).map((c) => c.version));
    const pinnedAt = Math.min(...[...history.keys()].filter((v) => v >= floor));
    await using pinned = await Database.create(store, {
      ...options,
      at: pinnedAt,
      cacheBytes: 16 * 1024,
      prefetchBelowBytes: 0,
    });
    const pinnedExpected = history.get(pinnedAt);
    expect(await contents(pinned)).toEqual(pinnedExpected);

    // Two GCs with faults, writers and the pinned reader, all at once.
    const flaky = chaos(store, { seed: 'gc-after', ops: { delete: { after: 0.3 } } });
    let crashes = 0;
    const gcWith = (s: ObjectStore, crashAfter?: number) => {
      let deletes = 0;
      return collectGarbage(s, {
        retention: RETENTION,
        grace: GRACE,
        clock,
        beforeDelete: () => {
          deletes++;
          if (crashAfter !== undefined && deletes > crashAfter) {
            crashes++;
            throw new Error('crash between deletes');
          }
        },
      });
    };
    let stop = false;
    const gcs = (async () => {
      // Raise the floor, then (a grace period later) delete under it, passes repeating through faults.
      await Promise.allSettled([gcWith(flaky), gcWith(store, 0)]);
      expect((await readGcFloor(store, new LogPaths('')))?.floor.floor).toBe(floor);
      now += GRACE;
      for (let pass = 0; pass < 4; pass++) {
        await Promise.allSettled([gcWith(flaky), gcWith(store, pass < 2 ? 2 : undefined)]);
      }
      stop = true;
    })();
    const writers = [a, b].map(async (db, w) => {
      for (let i = 0; i < 10; i++) await transfer(db, 100 + i, `c${w}`);
    });
    const reader = (async () => {
      while (!stop) {
        expect(await contents(pinned)).toEqual(pinnedExpected);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await Promise.all([gcs, ...writers, reader]);
    expect(crashes).toBeGreaterThan(0);
    expect(flaky.counts.after).toBeGreaterThan(0);

    // An automatic checkpoint a writer's last commit started may still be running (under load its
    // claim appeared after the clean pass below); checkpoint() waits for it before writing its own.
    await a.checkpoint();
    await b.checkpoint();
    // One clean pass after the faults: whatever the interrupted passes left is now gone.
    const report = await collectGarbage(store, { retention: RETENTION, grace: GRACE, clock });
    expect(report.effectiveFloor).toBe(floor);
    expect(await contents(pinned)).toEqual(pinnedExpected);

    // Records at or below the floor are gone, except that the newest record is never deleted.
    const records = await recordKeys(store);
    expect(Math.min(...records)).toBeGreaterThan(floor);
    expect(Math.max(...records)).toBe(a.version > b.version ? a.version : b.version);
    // Nothing collectable is left behind by the interrupted passes.
    expect((await collectGarbage(store, { retention: RETENTION, grace: GRACE, clock, dryRun: true })).keys).toEqual([]);
    expect((await publishedCheckpoints(store)).every((c) => c.version >= floor)).toBe(true);

    // Every version that time travel still offers opens, passes integrity_check, keeps the total,
    // and answers as it did (known for the versions recorded above).
    const f = (await readGcFloor(store, new LogPaths('')))?.floor;
    const oldestOffered = Math.max(f?.floor ?? 0, f?.effective ?? 0);
    const tail = Math.max(a.version, b.version);
    for (let v = oldestOffered; v <= tail; v++) {
      await using past = await Database.create(store, { at: v });
      expect((await past.get('pragma integrity_check'))?.integrity_check).toBe('ok');
      expect(await past.get('select sum(bal) s from acct')).toEqual({ s: 2000 });
      const known = history.get(v);
      if (known) expect(await contents(past)).toEqual(known);
    }
    // Below it: refused, never a wrong answer.
    await expect(Database.create(store, { at: floor - 1 })).rejects.toMatchObject({ code: 'VersionNotFound' });
    // The live handles still work and agree.
    await transfer(a, 999, 'z');
    expect(await contents(b)).toEqual(await contents(a));
    expect((await b.get('pragma integrity_check'))?.integrity_check).toBe('ok');
  }, 240_000);

  test('a handle older than the retention window cannot re-create a collected slot (no fork)', async () => {
    const store = await backend.newStore();
    let now = Date.now();
    const clock = () => now;
    const options: OpenOptions = { checkpointEveryRecords: 3, retention: RETENTION, gcGrace: GRACE, clock };
    await using writer = await Database.create(store, options);
    await writer.exec('create table t(id integer primary key, v text)');
    await using stale = await Database.create(store, options);
    const staleVersion = stale.version;
    for (let i = 0; i < 12; i++) await writer.run('insert into t(v) values (?)', [`row ${i}`]);
    await writer.checkpoint();
    now = Date.now() + RETENTION;
    expect((await collectGarbage(store, { retention: RETENTION, grace: GRACE, clock })).raisedFloor).toBe(
      writer.version,
    );
    now += GRACE;
    const report = await collectGarbage(store, { retention: RETENTION, grace: GRACE, clock });
    expect(report.deleted.records).toBeGreaterThan(0);
    const paths = new LogPaths('');
    await expect(store.head(paths.record(staleVersion + 1))).rejects.toMatchObject({ code: 'NotFound' });

    // The stale handle would append at staleVersion + 1, a deleted slot: refused, nothing written.
    await expect(stale.run("insert into t(v) values ('fork')")).rejects.toMatchObject({ code: 'Collected' });
    await expect(store.head(paths.record(staleVersion + 1))).rejects.toMatchObject({ code: 'NotFound' });
    // Its strong reads must not take the deleted slot's 404 for the tail: the tail check meets
    // Collected, and the handle (nothing pending) jumps to the newest checkpoint instead.
    expect(await stale.get('select count(*) n from t')).toEqual({ n: 12 });
    expect(stale.stats().rebases).toBe(1);
    await expect(store.head(paths.record(staleVersion + 1))).rejects.toMatchObject({ code: 'NotFound' });
    // A fresh handle sees everything.
    await using fresh = await Database.create(store, options);
    expect(await fresh.get('select count(*) n from t')).toEqual({ n: 12 });

    // Without the guard (a log client straight on the store), the same append would succeed:
    // the floor check is what prevents the fork.
    const raw = await CommitLog.open(store, { version: staleVersion });
    expect((await raw.tryAppend([new Uint8Array(1)], staleVersion + 1)).committed).toBe(true);
    await raw.close();
  }, 240_000);
});
