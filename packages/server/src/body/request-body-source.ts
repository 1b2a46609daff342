import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The body of a request as an async iterable that answers `Expect: 100-continue` lazily: the
 * interim `100 Continue` is written only when the body is first read. A handler that refuses
 * the request first (bad signature, bad checksum header, missing bucket) answers with its final
 * status instead, and the client never sends the body.
 *
 * Node answers 100 itself unless the server listens for 'checkContinue'; to get this behaviour
 * route those requests to the normal handler:
 * `server.on('checkContinue', (req, res) => server.emit('request', req, res))`.
 */
export function requestBodySource(req: IncomingMessage, res: ServerResponse): AsyncIterable<Uint8Array> {
  const expectsContinue = /100-continue/i.test(req.headers.expect ?? '');
  return {
    [Symbol.asyncIterator]() {
      if (expectsContinue && !res.headersSent) res.writeContinue();
      return req[Symbol.asyncIterator]();
    },
  };
}
