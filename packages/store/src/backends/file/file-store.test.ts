import { createHash } from 'node:crypto';
import { mkdir, readdir, readlink, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnTs, type TempDir, tempDir } from '@bucketdb/testkit-base';
import { expectStoreError } from '../../conformance/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyText, collectBody } from '../../body.js';
import { isStoreError } from '../../errors.js';
import { FileStore } from './file-store.js';
import { checkBody, makeBody, WRITER_KEYS } from './fixtures/self-checking-body.js';
import { watchChild } from './fixtures/watch-child.js';

const child = (name: string, args: string[]) => watchChild(spawnTs(new URL(name, import.meta.url), args));

async function listKeys(store: FileStore, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list({ prefix })) if (entry.kind === 'object') keys.push(entry.key);
  return keys;
}

/** Every file and directory below `dir`, relative to it. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

let dir: TempDir;
let root: string;
beforeEach(async () => {
  dir = await tempDir('bucketdb-file-store');
  root = join(dir.path, 'store');
});
afterEach(() => dir.remove());

// Without fsync (sync: false) the store commits with blocking calls: the same races must hold.
describe.each([{ sync: true }, { sync: false }])('FileStore across processes (sync: $sync)', ({ sync }) => {
  it('gives each create-only race between processes exactly one winner', async () => {
    const rounds = 60;
    const racers = ['r0', 'r1', 'r2', 'r3'].map((id) =>
      child('./file-store-race.child.ts', [root, id, 'create', `${rounds}`, `${sync}`]),
    );
    await Promise.all(racers.map((r) => r.line((l) => l === 'ready')));
    for (const r of racers) r.child.stdin?.write('go\n');
    const reports = await Promise.all(racers.map(async (r) => JSON.parse(await r.line((l) => l.startsWith('{')))));
    await Promise.all(racers.map((r) => r.result));
    const store = await FileStore.open(root);
    for (let round = 0; round < rounds; round++) {
      const winners = reports.filter((report) => report.won.includes(round));
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(bodyText((await store.get(`race/${round}`)).body)).toBe(winners[0].id);
    }
  });

  it('answers every create-only put of many store instances in many processes with success or PreconditionFailed', async () => {
    // The commit log's write pattern: 3 processes x 2 FileStore instances x 3 appenders race for
    // every slot. Each instance names its temp files, so two instances of one process must never
    // take (or clean up) each other's temp file: that once surfaced as a bogus NotFound.
    const slots = 150;
    const racers = ['p0', 'p1', 'p2'].map((id) =>
      child('./file-store-race.child.ts', [root, id, 'log', `${slots}`, `${sync}`]),
    );
    await Promise.all(racers.map((r) => r.line((l) => l === 'ready')));
    for (const r of racers) r.child.stdin?.write('go\n');
    const reports = await Promise.all(racers.map(async (r) => JSON.parse(await r.line((l) => l.startsWith('{')))));
    await Promise.all(racers.map((r) => r.result));
    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    const store = await FileStore.open(root);
    for (let slot = 0; slot < slots; slot++) {
      const winners = reports.flatMap((r) => (r.won as number[]).filter((w) => w === slot).map(() => r.id));
      expect(winners, `slot ${slot}`).toHaveLength(1);
      const body = bodyText((await store.get(`log/${String(slot).padStart(6, '0')}`)).body);
      expect(body).toBe(`${winners[0]} ${slot}`);
    }
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('orders unconditional puts of new keys with put-if-absent and swaps from other processes', async () => {
    // Per round, on a new key: an unconditional put (lock-free while the key is absent), a
    // put-if-absent and a swap of the put-if-absent's version, each from its own process. Every
    // linearizable order ends with the unconditional put's value: the create succeeds only before
    // it, the swap only right after the create, and nothing can overwrite the put once it is in.
    const rounds = 60;
    const racers = ['put', 'create', 'swap'].map((role) =>
      child('./file-store-race.child.ts', [root, role, `mixed-${role}`, `${rounds}`, `${sync}`]),
    );
    await Promise.all(racers.map((r) => r.line((l) => l === 'ready')));
    for (const r of racers) r.child.stdin?.write('go\n');
    const [put, create, swap] = await Promise.all(
      racers.map(async (r) => JSON.parse(await r.line((l) => l.startsWith('{'))).won as number[]),
    );
    await Promise.all(racers.map((r) => r.result));
    const store = await FileStore.open(root);
    expect(put).toHaveLength(rounds);
    for (let round = 0; round < rounds; round++) {
      expect(bodyText((await store.get(`mixed/${round}`)).body), `round ${round}`).toBe(`put ${round}`);
      if (swap?.includes(round)) expect(create, `round ${round}`).toContain(round);
    }
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('counts exactly with If-Match increments from several processes', async () => {
    const store = await FileStore.open(root);
    await store.put('counter', '0');
    const each = 20;
    const racers = ['c0', 'c1', 'c2'].map((id) =>
      child('./file-store-race.child.ts', [root, id, 'count', `${each}`, `${sync}`]),
    );
    await Promise.all(racers.map((r) => r.line((l) => l === 'ready')));
    for (const r of racers) r.child.stdin?.write('go\n');
    const reports = await Promise.all(racers.map(async (r) => JSON.parse(await r.line((l) => l.startsWith('{')))));
    const written = reports.flatMap((report) => report.won as number[]).sort((a, b) => a - b);
    // Every value from 1 to the total was written exactly once: no lost or duplicated update.
    expect(written).toEqual(Array.from({ length: racers.length * each }, (_, i) => i + 1));
    expect(bodyText((await store.get('counter')).body)).toBe(String(racers.length * each));
  });
});

describe('FileStore across processes', () => {
  it('never shows a torn or half-written object after kill -9 mid-write, and cleans up on reopen', async () => {
    for (let round = 0; round < 8; round++) {
      // Even rounds: killed while certainly inside a put's body. Odd rounds: killed anywhere.
      const pauseOp = round % 2 === 0 ? 1 + (round % 5) : -1;
      const writer = child('./file-store-writer.child.ts', [root, `w${round}`, `${pauseOp}`]);
      await writer.line((l) => (pauseOp >= 0 ? l === 'mid-write' : l === `op ${1 + ((round * 7) % 12)}`));
      writer.child.kill('SIGKILL');
      expect((await writer.result).signal).toBe('SIGKILL');
      const leftovers = await readdir(join(root, 'tmp'));
      if (pauseOp >= 0) expect(leftovers.length).toBeGreaterThan(0);

      // Every key is missing or holds one intact version, and LIST agrees with GET.
      const store = await FileStore.open(root);
      const present: string[] = [];
      for (const key of WRITER_KEYS) {
        try {
          checkBody(key, (await store.get(key)).body);
          present.push(key);
        } catch (error) {
          if (!isStoreError(error, 'NotFound')) throw error;
        }
      }
      expect((await listKeys(store)).sort()).toEqual(present.sort());
      // Opening removed the dead writer's temp files and broke any lock it held.
      expect(await readdir(join(root, 'tmp'))).toEqual([]);
      const held = (await readdir(join(root, 'locks'))).filter((name) => /^[0-9a-f]+\.\d+$/.test(name));
      expect(held).toEqual([]);
      // The keys are usable at once: no lock of the dead writer stands in the way.
      for (const key of present) {
        await store.put(key, makeBody(key, `parent.${round}`, 10), { ifMatch: (await store.head(key)).etag });
      }
    }
  });

  it('breaks the lock of a process killed inside its critical section', async () => {
    const store = await FileStore.open(root);
    const { etag } = await store.put('locked', 'v1');
    for (let round = 0; round < 2; round++) {
      const holder = child('./key-lock-holder.child.ts', [root, 'locked']);
      await holder.line((l) => l === 'holding');
      const lockFiles = await readdir(join(root, 'locks'));
      expect(lockFiles.length).toBeGreaterThan(0);
      holder.child.kill('SIGKILL');
      await holder.result;
      // Round 0: the open store breaks it when it needs the key. Round 1: reopening breaks it.
      const user = round === 0 ? store : await FileStore.open(root);
      if (round === 1) {
        const remaining = await readdir(join(root, 'locks'));
        for (const name of remaining) expect(name).toMatch(/\.g\d+$/);
      }
      await expectStoreError(user.put('locked', 'stale', { ifMatch: '"0"' }), 'PreconditionFailed');
    }
    await store.put('locked', 'v2', { ifMatch: etag });
    expect(bodyText((await store.get('locked')).body)).toBe('v2');
  });

  it('grants a claim to one holder at a time and frees it on release', async () => {
    const store = await FileStore.open(root);
    const release = await store.claim('server');
    await expectStoreError(store.claim('server'), 'ConflictInFlight');
    await expectStoreError((await FileStore.open(root)).claim('server'), 'ConflictInFlight');
    await (
      await store.claim('other')
    )();
    await release();
    await (
      await store.claim('server')
    )();
  });

  it('stays exact when several processes find the same dead holder and break its lock at once', async () => {
    const store = await FileStore.open(root);
    await store.put('counter', '0');
    const holder = child('./key-lock-holder.child.ts', [root, 'counter']);
    await holder.line((l) => l === 'holding');
    holder.child.kill('SIGKILL');
    await holder.result;
    const each = 10;
    const racers = ['b0', 'b1', 'b2'].map((id) => child('./file-store-race.child.ts', [root, id, 'count', `${each}`]));
    await Promise.all(racers.map((r) => r.line((l) => l === 'ready')));
    for (const r of racers) r.child.stdin?.write('go\n');
    const reports = await Promise.all(racers.map(async (r) => JSON.parse(await r.line((l) => l.startsWith('{')))));
    const written = reports.flatMap((report) => report.won as number[]).sort((a, b) => a - b);
    expect(written).toEqual(Array.from({ length: racers.length * each }, (_, i) => i + 1));
    expect(bodyText((await store.get('counter')).body)).toBe(String(racers.length * each));
    const names = await readdir(join(root, 'locks'));
    expect(names.filter((name) => /\.\d+$/.test(name))).toEqual([]);
    expect(names.filter((name) => /\.g\d+$/.test(name)).length).toBeGreaterThan(0);
  });

  it('sees changes made by another process through its cached listing', async () => {
    const store = await FileStore.open(root);
    await Promise.all(['d/1', 'd/2', 'd/3'].map((k) => store.put(k, k)));
    // Age the directories so their cached listings count as settled and are reused.
    const past = new Date(Date.now() - 60_000);
    for (const path of [join(root, 'objects'), join(root, 'objects', 'dd')]) await utimes(path, past, past);
    expect(await listKeys(store)).toEqual(['d/1', 'd/2', 'd/3']);
    expect(await listKeys(store)).toEqual(['d/1', 'd/2', 'd/3']);
    const writer = child('./file-store-race.child.ts', [root, 'w', 'create', '1']);
    await writer.line((l) => l === 'ready');
    writer.child.stdin?.write('go\n');
    await writer.result;
    await store.delete('d/2');
    expect(await listKeys(store)).toEqual(['d/1', 'd/3', 'race/0']);

    // A directory remembered as holding objects stops counting once they are gone (a crash
    // left an empty subdirectory, so the directory itself stays).
    await mkdir(join(root, 'objects', 'dd', 'dleft'));
    for (const path of [join(root, 'objects'), join(root, 'objects', 'dd')]) await utimes(path, past, past);
    const grouped = async () => (await store.listPage({ delimiter: '/' })).entries.map((e) => e.kind);
    expect(await grouped()).toEqual(['prefix', 'prefix']);
    expect(await grouped()).toEqual(['prefix', 'prefix']);
    await store.delete('d/1');
    await store.delete('d/3');
    expect((await store.listPage({ delimiter: '/' })).entries).toEqual([{ kind: 'prefix', prefix: 'race/' }]);
  });
});

describe('FileStore keys and layout', () => {
  it('keeps every key inside its directory and round-trips it exactly', async () => {
    const store = await FileStore.open(root);
    const keys = [
      '../x',
      '../../outside',
      '/abs/path',
      'a/../../b',
      '..',
      '.',
      './.',
      'a/./b',
      'nul\0byte',
      'back\\slash',
      '..\\..\\win',
      '%2e%2e/x',
      '%2F',
      '%',
      'C:\\x',
      '~/x',
      'sp ace/ tab\t',
      'Case',
      'case',
      'CASE',
      'ﬁ',
      'e\u0301',
      'é',
    ];
    await Promise.all(keys.map((k) => store.put(k, k)));
    for (const key of keys) expect(bodyText((await store.get(key)).body)).toBe(key);
    expect((await listKeys(store)).sort()).toEqual([...keys].sort());
    // Nothing outside the store directory, and inside it only bucketdb's three directories.
    expect(await readdir(dir.path)).toEqual(['store']);
    expect((await readdir(root)).sort()).toEqual(['blobs', 'locks', 'objects', 'tmp']);
    // Every name below objects/ is a marker letter plus lowercase-safe text.
    for (const path of await tree(join(root, 'objects'))) {
      for (const name of path.split('/')) expect(name).toMatch(/^[odpq][a-z0-9._%-]*$/);
    }
    for (const key of keys) await store.delete(key);
    expect(await tree(join(root, 'objects'))).toEqual([]);
  });

  it('keeps `a`, `a/` and `a/b` apart and prunes only empty directories', async () => {
    const store = await FileStore.open(root);
    await store.put('a', '1');
    await store.put('a/', '2');
    await store.put('a/b', '3');
    await store.put('a//c', '4');
    expect(await listKeys(store)).toEqual(['a', 'a/', 'a//c', 'a/b']);
    await store.delete('a/');
    expect(await listKeys(store)).toEqual(['a', 'a//c', 'a/b']);
    await store.delete('a//c');
    await store.delete('a/b');
    expect(await listKeys(store)).toEqual(['a']);
    expect(await tree(join(root, 'objects'))).toEqual(['oa']);
    expect(bodyText((await store.get('a')).body)).toBe('1');
  });

  it('stores any S3 key (1024 bytes) and long segments; rejects keys past maxKeyBytes', async () => {
    const store = await FileStore.open(root);
    const oneSegment = 'L'.repeat(1024);
    const longDir = `${'d'.repeat(300)}/leaf`;
    const manySegments = `${Array.from({ length: 341 }, () => 'é').join('/')}zz`;
    const unicode = '😀'.repeat(256);
    const keys = [oneSegment, longDir, `${'d'.repeat(300)}/other`, `${'d'.repeat(299)}/x`, manySegments, unicode, 'm'];
    for (const key of keys) expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
    await Promise.all(keys.map((k) => store.put(k, k)));
    for (const key of keys) expect(bodyText((await store.get(key)).body)).toBe(key);
    const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(await listKeys(store)).toEqual(sorted);
    const grouped = [];
    for await (const e of store.list({ delimiter: '/' })) grouped.push(e.kind === 'prefix' ? e.prefix : e.key);
    expect(grouped).toEqual([oneSegment, `${'d'.repeat(299)}/`, `${'d'.repeat(300)}/`, 'm', 'é/', unicode]);
    // A fresh process (new caches) sees the same listing, hashed names included.
    expect(await listKeys(await FileStore.open(root))).toEqual(sorted);
    await store.put('L'.repeat(store.maxKeyBytes), 'longest');
    await expectStoreError(store.put('L'.repeat(store.maxKeyBytes + 1), 'x'), 'InvalidKey');
    await expectStoreError(store.put(`${'é'.repeat(store.maxKeyBytes / 2)}x`, 'x'), 'InvalidKey');
    // Keys past S3's limit made of many short escaped segments can outgrow the file system's path
    // limit: that is a clean InvalidKey, never another error, and nothing else is touched.
    const deep = Array.from({ length: 600 }, () => 'é').join('/');
    await store.put(deep, 'deep').catch((error: unknown) => {
      if (!isStoreError(error, 'InvalidKey')) throw error;
    });
    for (const key of keys) expect(bodyText((await store.get(key)).body)).toBe(key);
  });

  it('streams a 256 MiB object in and out without holding it in memory', async () => {
    const store = await FileStore.open(root);
    const size = 256 * 2 ** 20;
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    const hashIn = createHash('md5');
    async function* body() {
      for (let sent = 0; sent < size; sent += 2 ** 20) {
        const chunk = Buffer.alloc(2 ** 20, 7);
        chunk.writeUInt32LE(sent, 0); // every chunk different, so a mix-up changes the hash
        hashIn.update(chunk);
        sample();
        yield chunk;
      }
    }
    const { etag } = await store.put('big', body());
    const hashOut = createHash('md5');
    let received = 0;
    for await (const part of (await store.getStream('big')).body) {
      hashOut.update(part);
      received += part.length;
      sample();
    }
    expect(received).toBe(size);
    expect(etag).toBe(`"${hashIn.digest('hex')}"`);
    expect(`"${hashOut.digest('hex')}"`).toBe(etag);
    // Holding the object would add 256 MiB; streaming adds a few chunk buffers.
    expect(peak - baseline).toBeLessThan(96 * 2 ** 20);
  });

  it('serves objects and ranges of every size around its first read exactly', async () => {
    const store = await FileStore.open(root);
    // A GET's first read (16 KiB) holds header and content of small objects; larger ones stream.
    const sizes = [0, 1, 4096, 15 * 1024, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 40_000, 3 * 2 ** 20 + 7];
    for (const size of sizes) {
      const bytes = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 31 + size) % 251;
      await store.put(`s/${size}`, bytes);
      const whole = await store.get(`s/${size}`);
      expect(Buffer.from(whole.body).equals(bytes), `size ${size}`).toBe(true);
      expect(whole.size).toBe(size);
      if (size === 0) continue;
      const ranges = [
        { offset: 0, length: 1 },
        { offset: size - 1 },
        { suffix: Math.min(size, 10) },
        { offset: Math.floor(size / 3), length: Math.ceil(size / 3) },
        { offset: Math.floor(size / 2), length: size },
      ];
      for (const range of ranges) {
        const got = await store.get(`s/${size}`, { range });
        const { start, end } = got.range ?? { start: -1, end: -1 };
        expect(Buffer.from(got.body).equals(bytes.subarray(start, end)), `size ${size} ${JSON.stringify(range)}`).toBe(
          true,
        );
      }
    }
  });

  it('writes a stream of many tiny chunks in batches, and stores nothing from a body that fails', async () => {
    const store = await FileStore.open(root);
    const hash = createHash('md5');
    async function* tiny() {
      for (let i = 0; i < 30_000; i++) {
        const chunk = Buffer.alloc(97, i % 256);
        hash.update(chunk);
        yield chunk;
      }
    }
    const { etag } = await store.put('tiny', tiny());
    expect(etag).toBe(`"${hash.digest('hex')}"`);
    expect((await store.head('tiny')).size).toBe(30_000 * 97);

    async function* failing() {
      for (let i = 0; i < 5; i++) yield Buffer.alloc(2 ** 20, i);
      throw new Error('the client went away');
    }
    await expect(store.put('tiny', failing())).rejects.toThrow('the client went away');
    await expect(store.put('fresh', failing())).rejects.toThrow('the client went away');
    expect((await store.head('tiny')).etag).toBe(etag);
    await expectStoreError(store.head('fresh'), 'NotFound');
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('keeps serving the version it opened while the key is replaced', async () => {
    const store = await FileStore.open(root);
    await store.put('k', 'old-'.repeat(1000));
    const reading = await store.getStream('k');
    await store.put('k', 'new');
    await store.delete('k');
    expect(bodyText(await collectBody(reading.body))).toBe('old-'.repeat(1000));
  });

  it('reports a damaged object file as Corrupt and ignores files it did not write', async () => {
    const store = await FileStore.open(root);
    await store.put('good', 'fine');
    await store.put('bad', 'will be damaged');
    await truncate(join(root, 'objects', 'obad'), 20);
    await writeFile(join(root, 'objects', 'README'), 'not an object');
    await writeFile(join(root, 'objects', 'oNOT-CANONICAL'), 'not an object');
    await expectStoreError(store.get('bad'), 'Corrupt');
    await expectStoreError(store.head('bad'), 'Corrupt');
    expect(bodyText((await store.get('good')).body)).toBe('fine');
    await store.delete('bad');
    expect(await listKeys(store)).toEqual(['good']);
  });

  it('lists no common prefix for directories a crash left empty', async () => {
    const store = await FileStore.open(root);
    await store.put('full/x', '1');
    await store.put('z', '2');
    // What a delete killed between unlink and rmdir leaves behind.
    await mkdir(join(root, 'objects', 'dempty', 'dnested'), { recursive: true });
    const grouped: string[] = [];
    for await (const e of store.list({ delimiter: '/' })) grouped.push(e.kind === 'prefix' ? e.prefix : e.key);
    expect(grouped).toEqual(['full/', 'z']);
    expect(await listKeys(store)).toEqual(['full/x', 'z']);
    await store.put('empty/nested/y', '3');
    await store.delete('empty/nested/y');
    expect(await tree(join(root, 'objects'))).toEqual(['dfull', 'dfull/ox', 'oz']);
  });

  it('rejects a conditional write with an If-None-Match other than *', async () => {
    const store = await FileStore.open(root);
    const options = { ifNoneMatch: '"abc"' } as unknown as { ifNoneMatch: '*' };
    await expectStoreError(store.put('k', 'v', options), 'InvalidArgument');
    await expectStoreError(store.head('k'), 'NotFound');
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('uses a file:// URL and reports its files as objects only', async () => {
    const store = await FileStore.open(root);
    expect(store.url).toBe(`file://${root}`);
    await store.put('x', 'y');
    expect((await stat(join(root, 'objects', 'ox'))).isFile()).toBe(true);
    await expect(readlink(join(root, 'objects', 'ox'))).rejects.toThrow();
  });
});
