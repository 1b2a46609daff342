import { connect } from 'node:net';
import { CreateBucketCommand, PutBucketAclCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './fixtures/harness.js';

// Stalled clients: a body that stops arriving is answered RequestTimeout and its connection
// closed, so an anonymous upload that never finishes holds nothing. The idle limit is short here
// so that the test waits little; the test waits for the server's answer, not for a clock.

let t: TestServer;
let port: number;
beforeAll(async () => {
  t = await startTestServer({ timeouts: { idleMs: 400 } });
  port = Number(new URL(t.url).port);
  const s3 = t.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'open' }));
  await s3.send(new PutBucketAclCommand({ Bucket: 'open', ACL: 'public-read-write' }));
});
afterAll(() => t.close());

/** Sends `head` and part of a body, then nothing; resolves with what came back once the server closed. */
function stall(head: string, partial: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(head + partial);
  });
}

describe('request timeouts', () => {
  it('answers RequestTimeout and closes the connection when a PUT body stops arriving', async () => {
    const answer = await stall(
      'PUT /open/stalled HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 1000\r\n\r\n',
      'only a little',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('<Code>RequestTimeout</Code>');
    // Nothing was stored.
    expect((await fetch(`${t.url}/open/stalled`)).status).toBe(404);
  }, 30_000);

  it('closes an anonymous form POST that never sends its file', async () => {
    const boundary = 'xyz';
    const fields = `--${boundary}\r\ncontent-disposition: form-data; name="key"\r\n\r\nnever\r\n--${boundary}\r\n`;
    const answer = await stall(
      `POST /open HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: 100000\r\n\r\n`,
      fields,
    );
    expect(answer).toContain('<Code>RequestTimeout</Code>');
  }, 30_000);

  it('leaves a slow handler alone once the body is through, and serves the next request', async () => {
    const put = await fetch(`${t.url}/open/fine`, {
      method: 'PUT',
      body: 'whole',
      headers: { 'x-amz-acl': 'public-read' },
    });
    expect(put.status).toBe(200);
    expect(await (await fetch(`${t.url}/open/fine`)).text()).toBe('whole');
  });

  it('serves /metrics only when asked to', async () => {
    // Without the option `/metrics` is only a bucket name (that does not exist here).
    expect((await fetch(`${t.url}/metrics`)).status).toBe(404);
    const open = await startTestServer({ metrics: true });
    try {
      expect(await (await fetch(`${open.url}/metrics`)).text()).toContain('bucketdb_s3_requests_total');
    } finally {
      await open.close();
    }
  });
});
