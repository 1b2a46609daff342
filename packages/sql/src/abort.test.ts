import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CodedError, MemoryStore } from '@bucketdb/store';
import { ScriptedStore, tempDir } from '@bucketdb/testkit';
import { describe, expect, test } from 'vitest';
import { Database } from './database.js';
import {
  CommitUnknownError,
  ConflictError,
  ReadOnlyError,
  SQL_ERROR_CODES,
  SqlError,
  SqliteError,
  TransactionTimeoutError,
  VersionNotFoundError,
} from './errors.js';
import { exportSqliteFile } from './export-file.js';
import { collectGarbage } from './gc.js';
import { MigrationError } from './migrations.js';
import { restoreDatabase } from './restore.js';

/** AbortSignal on sql's long operations, and sql's coded error family. */

const reason = () => new Error('stopped by the test');

async function filled(store = new MemoryStore()): Promise<Database> {
  const db = await Database.create(store, {});
  await db.exec('create table t(x integer primary key, pad text)');
  await db.transaction((tx) => {
    for (let i = 1; i <= 300; i++) tx.run('insert into t values (?, ?)', [i, 'p'.repeat(300)]);
  });
  await db.checkpoint();
  return db;
}

describe('AbortSignal', () => {
  test('open: an aborted open rejects with the reason, part way too, and releases what it opened', async () => {
    const store = new MemoryStore();
    (await filled(store)).close();
    const why = reason();
    await expect(Database.create(store, { signal: AbortSignal.abort(why) })).rejects.toBe(why);
    // Aborted while it reads the checkpoint's pages.
    const scripted = new ScriptedStore(store);
    const controller = new AbortController();
    scripted.add({
      match: (c) => c.op === 'get' && c.key.startsWith('checkpoints/'),
      hold: async () => controller.abort(why),
    });
    await expect(
      Database.create(scripted, { signal: controller.signal, prefetchBelowBytes: Number.MAX_SAFE_INTEGER }),
    ).rejects.toBe(why);
    // Nothing was written by the aborted opens, and the database opens normally afterwards.
    expect(scripted.calls.filter((c) => c.op === 'put' || c.op === 'delete')).toEqual([]);
    await using db = await Database.create(scripted, {});
    expect(await db.get('select count(*) n from t')).toEqual({ n: 300 });
  });

  test('a call waiting for the handle is stopped by its signal; nothing of it is applied', async () => {
    await using db = await Database.create(new MemoryStore(), {});
    await db.exec('create table t(x)');
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    // This transaction holds the handle until the gate opens.
    const first = db.transaction(async (tx) => {
      await gate;
      tx.run('insert into t values (1)');
    });
    const controller = new AbortController();
    const why = reason();
    const waiting = [
      db.run('insert into t values (2)', [], { signal: controller.signal }),
      db.transaction((tx) => tx.run('insert into t values (3)'), { signal: controller.signal }),
      db.begin({ signal: controller.signal }),
    ];
    const later = db.run('insert into t values (4)');
    controller.abort(why);
    for (const call of waiting) await expect(call).rejects.toBe(why);
    open();
    await first;
    await later; // the handle's queue went on past the aborted calls
    expect(await db.query('select x from t order by x')).toEqual([{ x: 1 }, { x: 4 }]);
  });

  test('export, restore and gc: an aborted call rejects with the reason and leaves nothing half done', async () => {
    const store = new MemoryStore();
    const db = await filled(store);
    const dir = await tempDir('bucketdb-abort');
    try {
      const why = reason();
      const path = join(dir.path, 'out.db');
      // Export aborted part way, while it reads pages: no file, not even a partial one.
      const scripted = new ScriptedStore(store);
      const controller = new AbortController();
      scripted.add({
        match: (c) => c.op === 'get' && c.key.includes('chunk'),
        hold: async () => controller.abort(why),
      });
      await expect(exportSqliteFile(scripted, path, { signal: controller.signal })).rejects.toBe(why);
      expect(existsSync(path)).toBe(false);
      expect(readdirSync(dir.path)).toEqual([]);

      // Restore aborted: the target is still an empty database, and a later restore succeeds.
      const target = new MemoryStore();
      const restoring = new AbortController();
      const targetScripted = new ScriptedStore(target);
      targetScripted.add({ match: (c) => c.op === 'put', hold: async () => restoring.abort(why) });
      await expect(restoreDatabase(store, targetScripted, { signal: restoring.signal })).rejects.toBe(why);
      expect(targetScripted.calls.some((c) => c.op === 'put' && c.key.includes('manifest'))).toBe(false);
      await restoreDatabase(store, target);
      await using restored = await Database.create(target, {});
      expect(await restored.get('select count(*) n from t')).toEqual({ n: 300 });

      await expect(collectGarbage(store, { signal: AbortSignal.abort(why) })).rejects.toBe(why);
      await expect(db.gc({ signal: AbortSignal.abort(why) })).rejects.toBe(why);
    } finally {
      await db.close();
      await dir.remove();
    }
  });
});

describe('SqlError family', () => {
  test('every sql error is a SqlError and a CodedError with a stable code', async () => {
    const errors: SqlError[] = [
      new ConflictError(2),
      new CommitUnknownError('7-00000000-0000-0000-0000-000000000000', 7),
      new TransactionTimeoutError(5),
      new VersionNotFoundError('gone'),
      new ReadOnlyError('past version'),
      new MigrationError('DatabaseNewer', 'newer'),
    ];
    for (const e of errors) {
      expect(e).toBeInstanceOf(SqlError);
      expect(e).toBeInstanceOf(CodedError);
      expect(SQL_ERROR_CODES).toContain(e.code);
      expect(e.name).toBe(e.constructor.name);
    }
    expect(new ConflictError(1).retryable).toBe(true);
    expect(new CommitUnknownError('1-x', 1).retryable).toBe(false);

    // SQLite's own errors: SqliteError, code = SQLite's name, nothing applied.
    await using db = await Database.create(new MemoryStore(), {});
    await db.exec('create table u(k text unique)');
    await db.run("insert into u values ('a')");
    const dup = await db.run("insert into u values ('a')").catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(SqliteError);
    expect(dup).toBeInstanceOf(SqlError);
    expect((dup as SqliteError).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect((dup as SqliteError).name).toBe('SqliteError');
    expect(await db.get('select count(*) n from u')).toEqual({ n: 1 });
  });
});
