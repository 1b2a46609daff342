import { afterEach, describe, expect, it } from 'vitest';
import { bodyText } from '../../body.js';
import { StoreError } from '../../errors.js';
import { ok, type Reply, type ScriptedS3, startScriptedS3, xmlError } from './fixtures/scripted-s3.js';
import { S3Store, type S3StoreOptions } from './s3-store.js';

const ETAG = '"0123456789abcdef0123456789abcdef"';
let peer: ScriptedS3 | undefined;
let store: S3Store | undefined;

afterEach(async () => {
  await store?.close();
  await peer?.close();
  store = peer = undefined;
});

async function scripted(
  script: (request: Parameters<Parameters<typeof startScriptedS3>[0]>[0], index: number) => Reply | Promise<Reply>,
  options: Partial<S3StoreOptions> = {},
): Promise<{ peer: ScriptedS3; store: S3Store }> {
  peer = await startScriptedS3(script);
  store = new S3Store({
    bucket: 'b',
    endpoint: peer.url,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    retryBaseDelayMs: 1,
    ...options,
  });
  return { peer, store };
}

/** Replies from a list, one per request, repeating the last one. */
function sequence(...replies: Reply[]) {
  return (_request: unknown, index: number) => replies[Math.min(index, replies.length - 1)] as Reply;
}

async function errorOf(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

describe('S3Store error mapping (one function, every status)', () => {
  const cases: [Reply, string][] = [
    [xmlError(404, 'NoSuchKey'), 'NotFound'],
    [xmlError(412, 'PreconditionFailed'), 'PreconditionFailed'],
    [xmlError(409, 'ConditionalRequestConflict'), 'ConflictInFlight'],
    [xmlError(503, 'SlowDown'), 'Throttled'],
    [xmlError(416, 'InvalidRange'), 'InvalidRange'],
    [xmlError(400, 'KeyTooLongError'), 'InvalidKey'],
    [xmlError(500, 'InternalError'), 'Transient'],
    [xmlError(503, 'ServiceUnavailable'), 'Transient'],
    [xmlError(400, 'RequestTimeout'), 'Transient'],
    [xmlError(403, 'AccessDenied'), 'InvalidArgument'],
    [xmlError(404, 'NoSuchBucket'), 'InvalidArgument'],
    [xmlError(501, 'NotImplemented'), 'InvalidArgument'],
    ['drop', 'Transient'],
  ];
  for (const [reply, code] of cases) {
    const label = typeof reply === 'string' ? reply : `${reply.status} ${String(reply.body).match(/<Code>(\w+)/)?.[1]}`;
    it(`maps ${label} on GET to ${code}`, async () => {
      const { store } = await scripted(sequence(reply), { maxAttempts: 1 });
      expect((await errorOf(store.get('k'))).code).toBe(code);
    });
  }

  it('maps a bodiless 404 on HEAD to NotFound and a bodiless 503 to Throttled', async () => {
    const { store } = await scripted(sequence({ status: 404 }, { status: 503 }), { maxAttempts: 1 });
    expect((await errorOf(store.head('k'))).code).toBe('NotFound');
    expect((await errorOf(store.head('k'))).code).toBe('Throttled');
  });

  it('turns 304 into notModified and sends the ETag quoted', async () => {
    const { peer, store } = await scripted(sequence({ status: 304, headers: { etag: ETAG } }));
    const result = await store.get('k', { ifNoneMatch: ETAG.slice(1, -1) });
    expect(result).toEqual({ notModified: true, key: 'k', etag: ETAG });
    expect(peer.requests[0]?.headers['if-none-match']).toBe(ETAG);
  });
});

describe('S3Store retries', () => {
  it('retries a read through 500s and succeeds', async () => {
    const body = ok({ etag: ETAG, 'last-modified': new Date(0).toUTCString() }, 'hello');
    const { peer, store } = await scripted(sequence(xmlError(500, 'InternalError'), 'drop', body));
    expect(bodyText((await store.get('k')).body)).toBe('hello');
    expect(peer.requests).toHaveLength(3);
  });

  it('does not retry a clean 412: one request, PreconditionFailed', async () => {
    const { peer, store } = await scripted(sequence(xmlError(412, 'PreconditionFailed')));
    expect((await errorOf(store.put('k', 'x', { ifNoneMatch: '*' }))).code).toBe('PreconditionFailed');
    expect(peer.requests).toHaveLength(1);
    expect(peer.requests[0]?.headers['if-none-match']).toBe('*');
  });

  it('reports 500 then 412 on a conditional put as AmbiguousWrite, never PreconditionFailed', async () => {
    const { peer, store } = await scripted(
      sequence(xmlError(500, 'InternalError'), xmlError(412, 'PreconditionFailed')),
    );
    expect((await errorOf(store.put('k', 'x', { ifNoneMatch: '*' }))).code).toBe('AmbiguousWrite');
    expect(peer.requests).toHaveLength(2);
  });

  it('reports a dropped connection then 412 on If-Match as AmbiguousWrite', async () => {
    const { store } = await scripted(sequence('drop', xmlError(412, 'PreconditionFailed')));
    expect((await errorOf(store.put('k', 'x', { ifMatch: ETAG }))).code).toBe('AmbiguousWrite');
  });

  it('reports a dropped connection then 404 on a conditional delete as AmbiguousWrite', async () => {
    const { store } = await scripted(sequence('drop', xmlError(404, 'NoSuchKey')));
    expect((await errorOf(store.delete('k', { ifMatch: ETAG }))).code).toBe('AmbiguousWrite');
  });

  it('keeps 412 clean after SlowDown or 409, which are answered before anything is applied', async () => {
    for (const first of [xmlError(503, 'SlowDown'), xmlError(409, 'ConditionalRequestConflict')]) {
      const { peer, store } = await scripted(sequence(first, xmlError(412, 'PreconditionFailed')));
      expect((await errorOf(store.put('k', 'x', { ifNoneMatch: '*' }))).code).toBe('PreconditionFailed');
      expect(peer.requests).toHaveLength(2);
      await store.close();
      await peer.close();
    }
  });

  it('succeeds when a retry of a conditional put succeeds after a 500', async () => {
    const { store } = await scripted(sequence(xmlError(500, 'InternalError'), ok({ etag: ETAG })));
    expect(await store.put('k', 'x', { ifNoneMatch: '*' })).toEqual({ etag: ETAG });
  });

  it('gives up after maxAttempts: AmbiguousWrite when conditional, Transient when not', async () => {
    const { peer, store } = await scripted(sequence(xmlError(500, 'InternalError')), { maxAttempts: 4 });
    expect((await errorOf(store.put('k', 'x', { ifNoneMatch: '*' }))).code).toBe('AmbiguousWrite');
    expect(peer.requests).toHaveLength(4);
    expect((await errorOf(store.put('k', 'x'))).code).toBe('Transient');
    expect(peer.requests).toHaveLength(8);
  });

  it('reports a conditional put that times out as AmbiguousWrite', async () => {
    const { store } = await scripted(() => 'hang', { maxAttempts: 1, requestTimeoutMs: 300 });
    expect((await errorOf(store.put('k', 'x', { ifNoneMatch: '*' }))).code).toBe('AmbiguousWrite');
  });

  it('reports a refused connection as Transient: the request never left', async () => {
    const { peer, store } = await scripted(() => ok());
    await peer.close();
    const error = await errorOf(store.put('k', 'x', { ifNoneMatch: '*' }));
    expect(error.code).toBe('Transient');
  });

  it('reports a conditional put cancelled after it was sent as AmbiguousWrite, a plain one as the abort', async () => {
    const controller = new AbortController();
    const { peer, store } = await scripted(() => {
      controller.abort(new Error('cancelled'));
      return 'hang';
    });
    const error = await errorOf(store.put('k', 'x', { ifNoneMatch: '*', signal: controller.signal }));
    expect(error.code).toBe('AmbiguousWrite');
    expect(peer.requests).toHaveLength(1);
    const plain = new AbortController();
    await peer.close();
    const next = await scripted(() => {
      plain.abort(new Error('cancelled'));
      return 'hang';
    });
    await expect(next.store.put('k', 'x', { signal: plain.signal })).rejects.toThrow('cancelled');
  });

  it('does not send a request that was aborted before it started', async () => {
    const { peer, store } = await scripted(() => ok({ etag: ETAG }));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(store.put('k', 'x', { signal: controller.signal })).rejects.toThrow('stop');
    expect(peer.requests).toHaveLength(0);
  });
});

describe('S3Store reads (GETs go through undici, the rest through the SDK handler)', () => {
  const object = 'x'.repeat(200_000);
  const whole = () => ok({ etag: ETAG, 'content-type': 'text/plain' }, object);

  it('streams a body and answers HEAD, LIST and PUT on the same store', async () => {
    const { peer, store } = await scripted((request) => (request.method === 'PUT' ? ok({ etag: ETAG }) : whole()));
    expect(bodyText((await store.get('some key/ü')).body)).toBe(object);
    expect((await store.head('k')).size).toBe(object.length);
    await store.put('k', 'y');
    expect(peer.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /b/some key/ü', 'HEAD /b/k', 'PUT /b/k']);
    expect(peer.requests[0]?.query.get('x-id')).toBe('GetObject');
    expect(peer.requests[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
  });

  it('reports a body that breaks off as Transient, with the bytes before it delivered', async () => {
    const { store } = await scripted(() => ({ status: 200, headers: { etag: ETAG }, body: object, cutAfter: 70_000 }));
    const { body } = await store.getStream('k');
    let received = 0;
    const error = await errorOf(
      (async () => {
        for await (const chunk of body) received += chunk.length;
      })(),
    );
    expect(error.code).toBe('Transient');
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(70_000);
  });

  it('times out a GET that is never answered, and retries it', async () => {
    const { peer, store } = await scripted(sequence('hang', whole()), { requestTimeoutMs: 300 });
    expect(bodyText((await store.get('k')).body)).toBe(object);
    expect(peer.requests).toHaveLength(2);
  });

  it('reports a refused connection on GET as Transient', async () => {
    const { peer, store } = await scripted(whole);
    await peer.close();
    expect((await errorOf(store.get('k'))).code).toBe('Transient');
  });

  it("cancels a GET with the caller's reason", async () => {
    const controller = new AbortController();
    const { store } = await scripted(() => {
      controller.abort(new Error('cancelled'));
      return 'hang';
    });
    await expect(store.get('k', { signal: controller.signal })).rejects.toThrow('cancelled');
  });
});
