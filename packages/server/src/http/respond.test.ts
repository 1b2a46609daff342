import { once } from 'node:events';
import { createServer, get, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { writeResponse } from './respond.js';

// writeResponse over a real node:http server and client on 127.0.0.1.

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Serves every request with `respond`; resolves with the port. */
async function serve(respond: (res: ServerResponse, head: boolean) => Promise<void>): Promise<number> {
  server = createServer((req, res) => void respond(res, req.method === 'HEAD'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A body of `count` chunks of `size` bytes (chunk i filled with i); records whether it was closed. */
function source(count: number, size: number) {
  const state = { yielded: 0, closed: false };
  async function* chunks() {
    try {
      for (let i = 0; i < count; i++) {
        state.yielded++;
        yield Buffer.alloc(size, i % 256);
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, body: chunks() };
}

describe('writeResponse', () => {
  it('streams a large body intact to a slow reader and counts its bytes', async () => {
    const { state, body } = source(80, 64 * 1024);
    let sent: Promise<number> | undefined;
    const port = await serve(async (res) => {
      sent = writeResponse(res, { status: 200, headers: { 'content-length': 80 * 64 * 1024 }, body }, false);
    });
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) => get({ port }, resolve));
    const received: Buffer[] = [];
    for await (const chunk of res) {
      received.push(chunk as Buffer);
      // A slow reader: the server must wait for 'drain' instead of buffering the whole body.
      if (received.length % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const all = Buffer.concat(received);
    expect(all.length).toBe(80 * 64 * 1024);
    for (let i = 0; i < 80; i++) expect(all[i * 64 * 1024 + 1000]).toBe(i);
    expect(await sent).toBe(80 * 64 * 1024);
    expect(state.closed).toBe(true);
  });

  it('sends a one-chunk and an empty stream body with their lengths', async () => {
    const bodies = [source(1, 4096), source(0, 0)];
    let next = 0;
    const port = await serve(async (res) => {
      const { body } = bodies[next++] as ReturnType<typeof source>;
      await writeResponse(res, { status: 200, headers: { 'content-length': next === 1 ? 4096 : 0 }, body }, false);
    });
    for (const length of [4096, 0]) {
      const res = await new Promise<import('node:http').IncomingMessage>((resolve) => get({ port }, resolve));
      let bytes = 0;
      for await (const chunk of res) bytes += (chunk as Buffer).length;
      expect(bytes).toBe(length);
    }
    expect(bodies.every((b) => b.state.closed)).toBe(true);
  });

  it('closes the body and rejects when the client goes away mid-response', async () => {
    const { state, body } = source(10_000, 64 * 1024);
    let outcome: Promise<unknown> | undefined;
    const port = await serve(async (res) => {
      outcome = writeResponse(res, { status: 200, headers: { 'content-length': 10_000 * 64 * 1024 }, body }, false);
    });
    await new Promise<void>((resolve) => {
      const req = get({ port }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
    });
    await expect(outcome).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(state.closed).toBe(true);
    expect(state.yielded).toBeLessThan(10_000);
  });

  it('answers HEAD without reading the body, and closes it', async () => {
    const { state, body } = source(5, 1024);
    const port = await serve(async (res, head) => {
      await writeResponse(res, { status: 200, headers: { 'content-length': 5 * 1024 }, body }, head);
    });
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) =>
      get({ port, method: 'HEAD' }, resolve),
    );
    res.resume();
    await once(res, 'end');
    expect(res.headers['content-length']).toBe(String(5 * 1024));
    // Returned before it started: finished without producing anything.
    expect(state.yielded).toBe(0);
    expect(await body.next()).toEqual({ done: true, value: undefined });
  });
});
