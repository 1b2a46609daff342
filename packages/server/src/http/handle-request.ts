import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  authenticate,
  type DecodedBody,
  decodeRequestBody,
  requestBodySource,
  UNSIGNED_ANONYMOUS,
} from '../auth/index.js';
import type { Metrics } from '../observability/metrics.js';
import { S3Error } from '../s3-error.js';
import { authorize } from './access.js';
import type { RequestContext, S3Response, ServerState } from './context.js';
import { corsHeaders, preflight } from './cors.js';
import { errorResponse, writeResponse } from './respond.js';
import type { Operation } from './operations.js';
import { matchRoute } from './routes.js';
import { parseTarget, type RequestTarget } from './target.js';
import { refuseUnsupportedHeaders } from './unsupported-headers.js';
import { toS3Error } from './to-s3-error.js';

export interface HandlerOptions {
  state: ServerState;
  /** Host suffixes for virtual-host-style addressing (`bucket.<domain>`). */
  domains: readonly string[];
  logger: Logger;
  metrics: Metrics;
  /** The longest wait for more of a request body before RequestTimeout; 0: none. */
  idleTimeoutMs: number;
  /** Whether `GET /metrics` answers; it is open to anyone, so only when asked for. */
  metricsEndpoint: boolean;
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * Request ids as S3 shapes them (16 upper-case hex digits): a random prefix per process and a
 * counter. Unique within a process and, by the prefix, across restarts; no random bytes per request.
 */
const REQUEST_ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let requestCount = 0;
function nextRequestId(): string {
  requestCount = (requestCount + 1) % 0x1_0000_0000;
  return REQUEST_ID_PREFIX + requestCount.toString(16).toUpperCase().padStart(8, '0');
}

/** The resource named in logs and error documents; built only when one is written. */
function resourceOf(req: IncomingMessage, target: RequestTarget | undefined): string {
  if (!target) return req.url?.split('?')[0] ?? '/';
  if (target.bucketName === undefined) return '/';
  return `/${target.bucketName}${target.key === undefined ? '' : `/${target.key}`}`;
}

function isFormPost(method: string, target: RequestTarget, contentType: string | undefined): boolean {
  return method === 'POST' && target.target === 'bucket' && /^multipart\/form-data\b/i.test(contentType ?? '');
}

/** Counts a request body's bytes as it streams (module level: no generator function per request). */
async function* counted(source: AsyncIterable<Uint8Array>, tally: { bytes: number }) {
  for await (const chunk of source) {
    tally.bytes += chunk.length;
    yield chunk;
  }
}

/**
 * A client that stopped sending its body: S3's RequestTimeout, then the connection is closed
 * (the handler still waiting for the body then fails, with the answer already sent).
 */
function timedOut(req: IncomingMessage, res: ServerResponse, requestId: string, common: Record<string, string>): void {
  if (res.headersSent) {
    req.destroy();
    return;
  }
  res.setHeader('connection', 'close');
  res.once('finish', () => req.destroy());
  const error = new S3Error(
    'RequestTimeout',
    'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.',
  );
  writeResponse(res, errorResponse(error, resourceOf(req, undefined), requestId), false, common).catch(() =>
    req.destroy(),
  );
}

/**
 * The request pipeline: address → authenticate → route → authorize → handle → respond, then one
 * log line and the metrics. Every failure becomes an S3 XML error; nothing escapes as a crash.
 */
export function createRequestHandler(options: HandlerOptions) {
  const { state, logger, metrics } = options;
  const lookup = (accessKeyId: string) => state.users.get(accessKeyId);

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const requestId = nextRequestId();
    const method = (req.method ?? 'GET').toUpperCase();
    const common = { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId, server: 'bucketdb' };
    let operation: Operation = 'Unknown';
    const tally = { bytes: 0 }; // request body bytes
    let bytesOut = 0;
    let target: RequestTarget | undefined;
    let bucketRules: Parameters<typeof corsHeaders>[0];
    try {
      target = parseTarget(req.url ?? '/', first(req.headers.host), options.domains);
      let response: S3Response;
      if (
        options.metricsEndpoint &&
        method === 'GET' &&
        target.rawPath === '/metrics' &&
        req.headers.authorization === undefined
      ) {
        operation = 'Metrics';
        response = { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, body: metrics.render() };
      } else if (method === 'OPTIONS') {
        operation = 'Preflight';
        const bucket = target.bucketName === undefined ? undefined : await state.buckets.find(target.bucketName);
        response = preflight(
          bucket?.cors,
          first(req.headers.origin),
          first(req.headers['access-control-request-method']),
          first(req.headers['access-control-request-headers']),
        );
      } else {
        // A form POSTed to a bucket carries its signature in the form (POST Object), not in headers.
        const auth = isFormPost(method, target, req.headers['content-type'])
          ? UNSIGNED_ANONYMOUS
          : authenticate(
              {
                method,
                rawPath: target.rawPath,
                rawQuery: target.rawQuery,
                query: target.query,
                headers: req.headers,
                ...(target.virtualHostBucket === undefined ? {} : { virtualHostBucket: target.virtualHostBucket }),
              },
              lookup,
              // Credentials scoped to another region are refused, as S3 does (AuthorizationHeaderMalformed).
              { region: state.region },
            );
        const headers =
          auth.kind === 'user' && auth.queryHeaders ? { ...auth.queryHeaders, ...req.headers } : req.headers;
        refuseUnsupportedHeaders(headers);
        const route = matchRoute(method, target.target, target.query, headers);
        operation = route.operation;
        let decoded: DecodedBody | undefined;
        const ctx: RequestContext = {
          state,
          requestId,
          req,
          method,
          operation,
          headers,
          query: target.query,
          bucketName: target.bucketName,
          key: target.key,
          auth,
          user: auth.kind === 'user' ? auth.user : undefined,
          bucket: undefined,
          body(bodyHeaders = headers) {
            if (decoded) throw new Error('the request body was read twice');
            const timeout = { idleMs: options.idleTimeoutMs, onIdle: () => timedOut(req, res, requestId, common) };
            decoded = decodeRequestBody(counted(requestBodySource(req, res, timeout), tally), bodyHeaders, auth);
            return decoded;
          },
        };
        // PostObject authorizes once it has read who signed its form.
        if (operation !== 'PostObject') await authorize(ctx, route.operation);
        bucketRules = ctx.bucket?.cors;
        response = await route.handler(ctx);
        // Its handler loaded the bucket itself; a browser's upload needs the CORS headers most.
        if (operation === 'PostObject') bucketRules = ctx.bucket?.cors;
      }
      // Most buckets have no CORS rules: no headers to merge then.
      if (bucketRules !== undefined) {
        response.headers = { ...corsHeaders(bucketRules, first(req.headers.origin), method), ...response.headers };
      }
      bytesOut = await writeResponse(res, response, method === 'HEAD', common);
    } catch (thrown) {
      let { error, unexpected } = toS3Error(thrown, target?.key);
      if (unexpected && !req.complete && (req.destroyed || res.destroyed)) {
        // The client went away mid-request: nothing was committed and nobody is listening.
        error = new S3Error('IncompleteBody', 'The client closed the connection before the request was complete.');
        unexpected = false;
      }
      if (unexpected) logger.error({ err: thrown, requestId, operation }, 'unexpected error');
      if (res.headersSent) {
        res.destroy();
      } else {
        if (!req.complete) res.setHeader('connection', 'close');
        try {
          bytesOut = await writeResponse(
            res,
            errorResponse(error, resourceOf(req, target), requestId),
            method === 'HEAD',
            common,
          );
        } catch {
          res.destroy();
        }
      }
    } finally {
      const ms = performance.now() - started;
      const status = res.statusCode;
      const bytesIn = tally.bytes;
      metrics.record(operation, status, bytesIn, bytesOut, ms / 1000);
      // A quiet server does not build the log line at all.
      if (logger.isLevelEnabled('info')) {
        logger.info(
          {
            requestId,
            operation,
            method,
            resource: resourceOf(req, target),
            status,
            bytesIn,
            bytesOut,
            ms: Math.round(ms * 10) / 10,
          },
          'request',
        );
      }
    }
  };
}
