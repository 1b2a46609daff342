import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryStore } from '@bucketdb/store';
import { openTestBackend, type TempDir, type TestBackend, tempDir, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededBytes } from './fixtures/test-data.js';
import { globFilter } from './glob-filter.js';
import { type SyncAction, sync } from './sync.js';
import { listTree } from './tree.js';

const TREE: Record<string, number> = {
  'a.txt': 10,
  'ünïcödé/日本語 ファイル.bin': 3000,
  'deep/er/still/deeper/x.json': 1,
  'deep/empty.dat': 0,
  'emoji 🎉/space name': 70_000,
  'big.bin': 300_000,
};

async function writeTree(dir: string, files: Record<string, number>, seed = 's'): Promise<void> {
  for (const [path, size] of Object.entries(files)) {
    const file = join(dir, ...path.split('/'));
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, seededBytes(size, `${seed}${path}`));
  }
}

const paths = (actions: SyncAction[]) => actions.map((a) => a.path).sort();
const options = { partSize: 128 * 1024 };

for (const name of testBackendNames()) {
  describe(`sync on ${name}`, () => {
    let backend: TestBackend;
    let dir: TempDir;
    beforeAll(async () => {
      backend = await openTestBackend(name);
      dir = await tempDir('bucketdb-sync');
    });
    afterAll(async () => {
      await backend.close();
      await dir.remove();
    });

    it('copies a tree with unicode names and nested prefixes local → store → store → local', async () => {
      const store = await backend.newStore();
      const src = join(dir.path, 'src');
      await writeTree(src, TREE);
      const up = await sync({ kind: 'local', dir: src }, { kind: 'store', store, prefix: 'p/' }, options);
      expect(up.failed).toEqual([]);
      expect(paths(up.copied)).toEqual(Object.keys(TREE).sort());
      // A second run finds nothing to do: sizes and checksums agree.
      const again = await sync({ kind: 'local', dir: src }, { kind: 'store', store, prefix: 'p/' }, options);
      expect(again.copied).toEqual([]);
      expect(again.unchanged).toBe(Object.keys(TREE).length);

      const other = new MemoryStore();
      const across = await sync(
        { kind: 'store', store, prefix: 'p/' },
        { kind: 'store', store: other, prefix: '' },
        options,
      );
      expect(paths(across.copied)).toEqual(Object.keys(TREE).sort());

      const back = join(dir.path, 'back');
      const down = await sync({ kind: 'store', store: other, prefix: '' }, { kind: 'local', dir: back }, options);
      expect(down.failed).toEqual([]);
      for (const [path, size] of Object.entries(TREE)) {
        expect((await readFile(join(back, ...path.split('/')))).equals(seededBytes(size, `s${path}`))).toBe(true);
      }
      expect(
        (await sync({ kind: 'store', store: other, prefix: '' }, { kind: 'local', dir: back }, options)).copied,
      ).toEqual([]);
    });

    it('copies a same-size file whose content changed, deletes extras with --delete, and changes nothing on a dry run', async () => {
      const store = await backend.newStore();
      const src = join(dir.path, 'src2');
      await writeTree(src, TREE);
      await sync({ kind: 'local', dir: src }, { kind: 'store', store, prefix: '' }, options);
      await writeFile(join(src, 'big.bin'), seededBytes(300_000, 'changed')); // same size, new bytes
      await rm(join(src, 'a.txt'));
      await rm(join(src, 'deep'), { recursive: true });
      const target = { kind: 'store' as const, store, prefix: '' };
      const planned: SyncAction[] = [];
      const dry = await sync({ kind: 'local', dir: src }, target, {
        ...options,
        delete: true,
        dryRun: true,
        onAction: (a) => planned.push(a),
      });
      expect(dry.copied).toEqual([]);
      expect(planned.map((a) => `${a.op} ${a.path} ${a.reason}`).sort()).toEqual([
        'copy big.bin checksum',
        'delete a.txt extra',
        'delete deep/empty.dat extra',
        'delete deep/er/still/deeper/x.json extra',
      ]);
      expect((await listTree(target)).length).toBe(Object.keys(TREE).length);
      const real = await sync({ kind: 'local', dir: src }, target, { ...options, delete: true });
      expect(paths(real.copied)).toEqual(['big.bin']);
      expect(paths(real.deleted)).toEqual(['a.txt', 'deep/empty.dat', 'deep/er/still/deeper/x.json']);
      expect((await listTree(target)).map((e) => e.path)).toEqual(
        (await listTree({ kind: 'local', dir: src })).map((e) => e.path),
      );
      expect(Buffer.from((await store.get('big.bin')).body).equals(seededBytes(300_000, 'changed'))).toBe(true);
    });

    it('takes only what the include and exclude patterns select, deletions included', async () => {
      const store = await backend.newStore();
      const src = join(dir.path, 'src3');
      await writeTree(src, TREE);
      await store.put('keep-me.log', 'not in the source, excluded from deletion');
      const result = await sync(
        { kind: 'local', dir: src },
        { kind: 'store', store, prefix: '' },
        {
          ...options,
          include: ['*.bin', 'deep/*'],
          exclude: ['deep/er/*'],
          delete: true,
        },
      );
      expect(paths(result.copied)).toEqual(['big.bin', 'deep/empty.dat', 'ünïcödé/日本語 ファイル.bin']);
      expect(result.deleted).toEqual([]);
      expect((await store.head('keep-me.log')).size).toBeGreaterThan(0);
    });
  });
}

describe('store keys that cannot be local file names', () => {
  it('are refused, not followed out of the directory', async () => {
    await using dir = await tempDir('bucketdb-sync-escape');
    const store = new MemoryStore();
    await store.put('../escape', 'x');
    await store.put('ok', 'y');
    const result = await sync({ kind: 'store', store, prefix: '' }, { kind: 'local', dir: join(dir.path, 'in') }, {});
    expect(paths(result.copied)).toEqual(['ok']);
    expect(result.failed.map((f) => f.action.path)).toEqual(['../escape']);
    await expect(readFile(join(dir.path, 'escape'))).rejects.toThrow(/ENOENT/);
  });
});

describe('globFilter', () => {
  it('matches whole relative paths with *, ? and sets, exclusions winning', () => {
    const take = globFilter({ include: ['*.jpg', 'docs/?.md', 'x[0-9]'], exclude: ['private/*'] });
    expect(['a.jpg', 'd/e/f.jpg', 'docs/a.md', 'x7'].every(take)).toBe(true);
    expect(['a.png', 'docs/ab.md', 'private/a.jpg', 'xa'].some(take)).toBe(false);
  });
});
