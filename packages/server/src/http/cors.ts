import type { CorsRule } from '../engine/buckets.js';
import { S3Error } from '../s3-error.js';
import type { S3Response } from './context.js';

/** `*` in an S3 CORS pattern matches any run of characters; matching ignores case for headers. */
function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  const parts = p.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`).test(v);
}

export function matchCorsRule(
  rules: readonly CorsRule[] | undefined,
  origin: string,
  method: string,
  requestHeaders: readonly string[] = [],
): CorsRule | undefined {
  return rules?.find(
    (rule) =>
      rule.allowedOrigins.some((o) => wildcard(o, origin, false)) &&
      rule.allowedMethods.includes(method) &&
      requestHeaders.every((h) => rule.allowedHeaders.some((a) => wildcard(a, h, true))),
  );
}

function allowOrigin(rule: CorsRule, origin: string): Record<string, string> {
  const any = rule.allowedOrigins.includes('*');
  return any
    ? { 'access-control-allow-origin': '*' }
    : { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' };
}

/** Answers an OPTIONS preflight from the bucket's CORS rules, as S3 does. */
export function preflight(
  rules: readonly CorsRule[] | undefined,
  origin: string | undefined,
  method: string | undefined,
  requestHeaders: string | undefined,
): S3Response {
  if (origin === undefined || method === undefined) {
    throw new S3Error(
      'InvalidRequest',
      'Insufficient information. Origin and Access-Control-Request-Method are needed.',
    );
  }
  const headers = (requestHeaders ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  const rule = matchCorsRule(rules, origin, method, headers);
  if (!rule) {
    throw new S3Error('AccessForbidden', 'CORSResponse: This CORS request is not allowed.', {
      Method: method,
      ResourceType: 'OBJECT',
    });
  }
  return {
    status: 200,
    headers: {
      ...allowOrigin(rule, origin),
      'access-control-allow-methods': rule.allowedMethods.join(', '),
      'access-control-allow-headers': headers.length > 0 ? headers.join(', ') : undefined,
      'access-control-expose-headers': rule.exposeHeaders.length > 0 ? rule.exposeHeaders.join(', ') : undefined,
      'access-control-max-age': rule.maxAgeSeconds,
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    },
  };
}

/** CORS headers for an actual (non-preflight) request from a browser. */
export function corsHeaders(
  rules: readonly CorsRule[] | undefined,
  origin: string | undefined,
  method: string,
): Record<string, string> {
  if (origin === undefined || !rules) return {};
  const rule = matchCorsRule(rules, origin, method);
  if (!rule) return {};
  const headers: Record<string, string> = { ...allowOrigin(rule, origin), vary: 'Origin' };
  headers['access-control-allow-methods'] = rule.allowedMethods.join(', ');
  if (rule.exposeHeaders.length > 0) headers['access-control-expose-headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) headers['access-control-max-age'] = String(rule.maxAgeSeconds);
  return headers;
}
