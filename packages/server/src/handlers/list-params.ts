import type { ListResume } from '../engine/object-listing.js';
import type { RequestContext } from '../http/context.js';
import { S3Error } from '../s3-error.js';

export interface ListParams {
  prefix: string;
  delimiter: string | undefined;
  maxKeys: number;
  encode: (value: string) => string;
  encodingType: 'url' | undefined;
}

/** prefix, delimiter, max-keys and encoding-type, shared by every listing. */
export function listParams(ctx: RequestContext, maxName = 'max-keys'): ListParams {
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') || undefined;
  const maxText = ctx.query.get(maxName);
  let maxKeys = 1000;
  if (maxText !== null) {
    if (!/^\d{1,9}$/.test(maxText)) {
      throw new S3Error('InvalidArgument', `Provided ${maxName} not an integer or within integer range`, {
        ArgumentName: maxName,
        ArgumentValue: maxText.slice(0, 20),
      });
    }
    maxKeys = Math.min(1000, Number(maxText));
  }
  const encodingType = ctx.query.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url') {
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
      ArgumentValue: encodingType.slice(0, 20),
    });
  }
  const encode = encodingType === 'url' ? (v: string) => encodeURIComponent(v).replace(/%2F/g, '/') : (v: string) => v;
  return { prefix, delimiter, maxKeys, encode, encodingType: encodingType === 'url' ? 'url' : undefined };
}

/** Opaque continuation tokens that carry where to resume and the bucket they belong to. */
export function encodeToken(bucket: string, resume: ListResume): string {
  const body = 'storeToken' in resume ? { b: bucket, t: resume.storeToken } : { b: bucket, a: resume.startAfter };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodeToken(bucket: string, token: string): ListResume {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      b?: unknown;
      t?: unknown;
      a?: unknown;
    };
    if (parsed.b === bucket && typeof parsed.t === 'string') return { storeToken: parsed.t };
    if (parsed.b === bucket && typeof parsed.a === 'string') return { startAfter: parsed.a };
  } catch {
    // fall through
  }
  throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
    ArgumentName: 'continuation-token',
  });
}
