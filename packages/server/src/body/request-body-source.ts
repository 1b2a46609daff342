import type { IncomingMessage, ServerResponse } from 'node:http';

export interface BodyTimeout {
  /** The longest wait for the next bytes of a body being read; 0: none. */
  idleMs: number;
  /** Called once when a wait runs out (the caller answers and closes the connection). */
  onIdle(): void;
}

/**
 * The body of a request as an async iterable that answers `Expect: 100-continue` lazily: the
 * interim `100 Continue` is written only when the body is first read. A handler that refuses
 * the request first (bad signature, bad checksum header, missing bucket) answers with its final
 * status instead, and the client never sends the body.
 *
 * Node answers 100 itself unless the server listens for 'checkContinue'; to get this behaviour
 * route those requests to the normal handler:
 * `server.on('checkContinue', (req, res) => server.emit('request', req, res))`.
 *
 * With `timeout`, the socket's inactivity timer runs while the body is read (Node refreshes it on
 * every packet, no timer per chunk) and is cleared once the body is through, so that a slow
 * handler after it is not cut off.
 */
export function requestBodySource(
  req: IncomingMessage,
  res: ServerResponse,
  timeout?: BodyTimeout,
): AsyncIterable<Uint8Array> {
  const expectsContinue = /100-continue/i.test(req.headers.expect ?? '');
  return {
    [Symbol.asyncIterator]() {
      if (expectsContinue && !res.headersSent) res.writeContinue();
      if (!timeout || timeout.idleMs <= 0 || req.complete) return req[Symbol.asyncIterator]();
      req.setTimeout(timeout.idleMs, () => timeout.onIdle());
      return untimedAfter(req[Symbol.asyncIterator](), req);
    },
  };
}

/** The body's chunks; the inactivity timer is cleared when they end, however they end. */
async function* untimedAfter(chunks: AsyncIterator<Uint8Array>, req: IncomingMessage): AsyncGenerator<Uint8Array> {
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    req.socket?.setTimeout(0);
    await chunks.return?.();
  }
}
