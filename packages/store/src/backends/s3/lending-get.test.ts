import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { runTs } from '@bucketdb/testkit-base';
import { afterEach, describe, expect, it } from 'vitest';
import { isStoreError, type StoreError } from '../../errors.js';
import { type Random, seededRandom } from '../../random.js';
import {
  ok,
  type Reply,
  type ScriptedRequest,
  type ScriptedS3,
  startScriptedS3,
  TEST_CERT_FILE,
  xmlError,
} from './fixtures/scripted-s3.js';
import { S3Store } from './s3-store.js';

const MiB = 1 << 20;
let peer: ScriptedS3 | undefined;
let store: S3Store | undefined;
let plain: ReturnType<typeof createServer> | undefined;

afterEach(async () => {
  await store?.close();
  await peer?.close();
  await new Promise((resolve) => (plain ? plain.close(resolve) : resolve(undefined)));
  store = peer = plain = undefined;
});

function storeAt(endpoint: string, maxAttempts = 3): S3Store {
  store = new S3Store({
    bucket: 'b',
    endpoint,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    retryBaseDelayMs: 1,
    maxAttempts,
  });
  return store;
}

async function scripted(script: (request: ScriptedRequest, index: number) => Reply, maxAttempts?: number) {
  peer = await startScriptedS3(script);
  return { peer, store: storeAt(peer.url, maxAttempts) };
}

/** Reads a body as a lending reader must: each chunk copied before the next is asked for. */
async function readLent(body: AsyncIterable<Uint8Array>) {
  const copies: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const chunk of body) {
    buffers.add(chunk.buffer);
    copies.push(Buffer.from(chunk));
  }
  return { bytes: Buffer.concat(copies), chunks: copies.length, buffers: buffers.size };
}

describe('S3Store GETs with lent chunks', () => {
  it('hands a body out as views of one buffer per connection, and fresh chunks to other readers', async () => {
    const object = randomBytes(3 * MiB);
    const { store } = await scripted(() => ok({}, object));
    const lent = await readLent((await store.getStream('k', { lendChunks: true })).body);
    expect(lent.bytes.equals(object)).toBe(true);
    expect(lent.chunks).toBeGreaterThan(3);
    expect(lent.buffers).toBe(1);

    // Without the option, the chunks are the reader's to keep: all of them, still intact at the end.
    const kept: Uint8Array[] = [];
    for await (const chunk of (await store.getStream('k')).body) kept.push(chunk);
    expect(Buffer.concat(kept).equals(object)).toBe(true);
    // get() collects every chunk, so it never lends, whatever it is asked.
    const whole = await store.get('k', { lendChunks: true });
    expect(Buffer.from(whole.body).equals(object)).toBe(true);
  });

  it('sends ranges, conditions and signed headers, and keeps the connection for the next GET', async () => {
    const object = randomBytes(MiB);
    const { peer, store } = await scripted((request) => {
      const [, start, end] = /bytes=(\d+)-(\d+)/.exec(String(request.headers.range)) ?? [];
      const slice = object.subarray(Number(start), Number(end) + 1);
      return {
        status: 206,
        headers: { 'content-range': `bytes ${start}-${end}/${object.length}`, etag: '"e1"' },
        body: slice,
      };
    });
    for (const offset of [0, 1000, 700_000]) {
      const result = await store.getStream('dir/a key', {
        range: { offset, length: 300_000 },
        ifMatch: 'e1',
        lendChunks: true,
      });
      expect(result.range).toEqual({ start: offset, end: Math.min(object.length, offset + 300_000) });
      const { bytes } = await readLent(result.body);
      expect(bytes.equals(object.subarray(offset, offset + 300_000))).toBe(true);
    }
    expect(peer.requests.map((r) => [r.path, r.headers['if-match'], typeof r.headers.authorization])).toEqual(
      Array(3).fill(['/b/dir/a key', '"e1"', 'string']),
    );
    expect(new Set(peer.requests.map((r) => r.remotePort)).size).toBe(1);
  });

  it('maps error statuses as the SDK does', async () => {
    const { store } = await scripted((request) =>
      request.path.endsWith('/gone')
        ? xmlError(404, 'NoSuchKey')
        : request.path.endsWith('/moved')
          ? xmlError(412, 'PreconditionFailed')
          : xmlError(416, 'InvalidRange'),
    );
    const code = (key: string) =>
      store.getStream(key, { lendChunks: true }).then(
        () => 'none',
        (error: StoreError) => error.code,
      );
    expect(await code('gone')).toBe('NotFound');
    expect(await code('moved')).toBe('PreconditionFailed');
    expect(await code('range')).toBe('InvalidRange');
  });

  it('reports a body cut short as transient, and the next GET succeeds on a new connection', async () => {
    const object = randomBytes(2 * MiB);
    const { peer, store } = await scripted((_, index) =>
      index === 0 ? { status: 200, body: object, cutAfter: MiB } : ok({}, object),
    );
    const cut = await readLent((await store.getStream('k', { lendChunks: true })).body).catch((error) => error);
    expect(isStoreError(cut, 'Transient'), String(cut)).toBe(true);
    expect(String(cut.message)).toMatch(/broke off/);
    const { bytes } = await readLent((await store.getStream('k', { lendChunks: true })).body);
    expect(bytes.equals(object)).toBe(true);
    expect(new Set(peer.requests.map((r) => r.remotePort)).size).toBe(2);
  });

  it('sends a GET again on a new connection when a kept one turns out closed, without a retry of the store', async () => {
    const { peer, store } = await scripted((_, index) => (index === 1 ? 'drop' : ok({}, 'hello')), 1);
    expect((await readLent((await store.getStream('k', { lendChunks: true })).body)).bytes.toString()).toBe('hello');
    expect((await readLent((await store.getStream('k', { lendChunks: true })).body)).bytes.toString()).toBe('hello');
    expect(peer.requests).toHaveLength(3);
    expect(peer.requests[1]!.remotePort).toBe(peer.requests[0]!.remotePort);
    expect(peer.requests[2]!.remotePort).not.toBe(peer.requests[0]!.remotePort);
  });

  it('closes the connection of a body left unfinished, and aborts a body on its signal', async () => {
    const object = randomBytes(4 * MiB);
    const { peer, store } = await scripted(() => ok({}, object));
    for await (const _ of (await store.getStream('k', { lendChunks: true })).body) break;
    const controller = new AbortController();
    const reason = new Error('stop');
    const aborted = (async () => {
      const { body } = await store.getStream('k', { lendChunks: true, signal: controller.signal });
      for await (const _ of body) controller.abort(reason);
    })();
    await expect(aborted).rejects.toThrow();
    const { bytes } = await readLent((await store.getStream('k', { lendChunks: true })).body);
    expect(bytes.equals(object)).toBe(true);
    expect(new Set(peer.requests.map((r) => r.remotePort)).size).toBe(3);
  });

  it('falls back to another client for a body it does not frame (chunked)', async () => {
    const object = randomBytes(MiB + 17);
    plain = createServer((_, res) => {
      res.writeHead(200); // no Content-Length: Node sends the body chunked
      res.write(object.subarray(0, 1000));
      res.end(object.subarray(1000));
    });
    await new Promise<void>((resolve) => plain!.listen(0, '127.0.0.1', resolve));
    const store = storeAt(`http://127.0.0.1:${(plain.address() as AddressInfo).port}`);
    const { bytes } = await readLent((await store.getStream('k', { lendChunks: true })).body);
    expect(bytes.equals(object)).toBe(true);
  });

  it('lends chunks over TLS too', async () => {
    const object = randomBytes(2 * MiB);
    peer = await startScriptedS3(() => ok({}, object), { tls: true });
    // A child trusts the test certificate: Node reads extra CAs only at start.
    const child = await runTs(new URL('./lending-get-tls.child.ts', import.meta.url), [peer.url], {
      NODE_EXTRA_CA_CERTS: fileURLToPath(TEST_CERT_FILE),
    });
    expect(child.code, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({
      sha256: createHash('sha256').update(object).digest('hex'),
      buffers: 1,
    });
  });
});

type Behaviour = 'ok' | 'close' | 'interim' | 'chunked' | 'cut' | 'drop' | 'garbage' | 'overrun';
const BEHAVIOURS: Behaviour[] = ['ok', 'ok', 'ok', 'close', 'interim', 'chunked', 'cut', 'drop', 'garbage', 'overrun'];

/**
 * A raw HTTP/1.1 peer on 127.0.0.1 that answers each GET of `/b/<key>` in a random way of
 * `BEHAVIOURS`, writing heads and bodies in random pieces at random moments, so responses split
 * anywhere across socket reads.
 */
async function startRandomPeer(random: Random, objects: Map<string, Buffer>) {
  const seen = new Set<Behaviour>();
  const pause = () =>
    new Promise((resolve) => (random.int(3) === 0 ? setTimeout(resolve, random.int(3)) : setImmediate(resolve)));
  const sendInPieces = async (socket: Socket, bytes: Buffer) => {
    for (let at = 0; at < bytes.length && !socket.destroyed;) {
      const take = 1 + random.int(random.int(2) === 0 ? 64 : 200_000);
      socket.write(bytes.subarray(at, at + take));
      at += take;
      if (random.int(2) === 0) await pause();
    }
  };
  const answer = async (socket: Socket, key: string) => {
    const object = objects.get(key)!;
    const behaviour = BEHAVIOURS[random.int(BEHAVIOURS.length)]!;
    seen.add(behaviour);
    const head = (extra = '', length = object.length) =>
      Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${length}\r\netag: "x"\r\n${extra}\r\n`);
    if (behaviour === 'drop') {
      socket.destroy();
      return;
    }
    if (behaviour === 'garbage') return sendInPieces(socket, Buffer.from('HTTP/1.1 2x0 What\r\n\r\n'));
    if (behaviour === 'chunked') {
      const body = object.length === 0 ? '' : `${object.length.toString(16)}\r\n${object.toString('latin1')}\r\n`;
      await sendInPieces(
        socket,
        Buffer.from(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${body}0\r\n\r\n`, 'latin1'),
      );
      return;
    }
    if (behaviour === 'interim') await sendInPieces(socket, Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'));
    if (behaviour === 'cut') {
      await sendInPieces(socket, Buffer.concat([head(), object.subarray(0, random.int(object.length))]));
      socket.destroy();
      return;
    }
    // More bytes than announced: the reader gets the object and the connection is not used again.
    if (behaviour === 'overrun') return sendInPieces(socket, Buffer.concat([head(), object, Buffer.from('extra')]));
    await sendInPieces(socket, Buffer.concat([head(behaviour === 'close' ? 'connection: close\r\n' : ''), object]));
    if (behaviour === 'close') socket.end();
  };
  const server = createNetServer((socket) => {
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    let queue = Promise.resolve();
    socket.on('data', (bytes: Buffer) => {
      pending = Buffer.concat([pending, bytes]);
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const path = /^GET (\S+)/.exec(pending.subarray(0, end).toString('latin1'))?.[1] ?? '';
        pending = pending.subarray(end + 4);
        const key = decodeURIComponent(new URL(path, 'http://x').pathname).replace(/^\/b\//, '');
        queue = queue.then(() => answer(socket, key));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('lent GETs against a peer that answers in random ways (seeded)', () => {
  it.each([1, 2, 3])(
    'never hands out wrong bytes: each read is exact or fails as transient (seed %i)',
    async (seed) => {
      const random = seededRandom(`lending-get-${seed}`);
      const objects = new Map<string, Buffer>();
      for (let i = 0; i < 16; i++)
        objects.set(`o${i}`, randomBytes(random.int(4) === 0 ? random.int(10) : random.int(600_000)));
      const peer = await startRandomPeer(random.fork('peer'), objects);
      const client = storeAt(peer.url);
      const reader = random.fork('reader');
      const outcomes = { exact: 0, transient: 0, abandoned: 0 };
      try {
        const readOne = async () => {
          const key = `o${reader.int(objects.size)}`;
          const abandonAfter = reader.int(8) === 0 ? reader.int(4) : Number.POSITIVE_INFINITY;
          try {
            const { body } = await client.getStream(key, { lendChunks: true });
            const copies: Buffer[] = [];
            let chunks = 0;
            for await (const chunk of body) {
              if (chunks++ >= abandonAfter) {
                outcomes.abandoned++;
                return;
              }
              // A reader may hold its lent chunk across awaits: it stays its own until it asks again.
              if (reader.int(3) === 0) await new Promise((resolve) => setImmediate(resolve));
              copies.push(Buffer.from(chunk));
            }
            expect(Buffer.concat(copies).equals(objects.get(key)!), `${key}: the bytes read differ`).toBe(true);
            outcomes.exact++;
          } catch (error) {
            expect(isStoreError(error, 'Transient'), String(error)).toBe(true);
            outcomes.transient++;
          }
        };
        await Promise.all(
          Array.from({ length: 6 }, async () => {
            for (let i = 0; i < 40; i++) await readOne();
          }),
        );
      } finally {
        await client.close();
        await peer.close();
      }
      expect(outcomes.exact).toBeGreaterThan(100);
      expect(outcomes.transient + outcomes.abandoned).toBeGreaterThan(0);
      expect([...peer.seen].sort()).toEqual([...new Set(BEHAVIOURS)].sort());
    },
  );
});
