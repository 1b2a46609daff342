import type { RequestContext, S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { S3Error } from '../s3-error.js';
import { ownerParty } from '../http/owner-party.js';

/** S3's largest page of ListBuckets. */
const MAX_BUCKETS = 10_000;

/**
 * The requester's buckets by name, paged as S3 pages them: `max-buckets` (1 to 10,000), a
 * `continuation-token` (here the last name of the previous page, base64url) and a `prefix`.
 */
export async function listBuckets(ctx: RequestContext): Promise<S3Response> {
  const user = ctx.user;
  const prefix = ctx.query.get('prefix') ?? '';
  const max = maxBuckets(ctx.query.get('max-buckets'));
  const token = ctx.query.get('continuation-token');
  const after = token === null ? '' : Buffer.from(token, 'base64url').toString('utf8');
  const buckets = (await ctx.state.buckets.list())
    .filter((b) => b.owner === user?.accessKeyId && b.name.startsWith(prefix) && b.name > after)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const page = buckets.slice(0, max);
  const last = page.at(-1);
  return xmlResponse('ListAllMyBucketsResult', {
    Owner: user ? ownerParty(ctx.state, user.accessKeyId) : undefined,
    Buckets: {
      Bucket: page.map((b) => ({ Name: b.name, CreationDate: b.created, BucketRegion: ctx.state.region })),
    },
    ContinuationToken: buckets.length > page.length && last ? Buffer.from(last.name).toString('base64url') : undefined,
    Prefix: ctx.query.has('prefix') ? prefix : undefined,
  });
}

function maxBuckets(text: string | null): number {
  if (text === null) return MAX_BUCKETS;
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > MAX_BUCKETS) {
    throw new S3Error('InvalidArgument', `max-buckets must be an integer from 1 to ${MAX_BUCKETS}`, {
      ArgumentName: 'max-buckets',
      ArgumentValue: text.slice(0, 20),
    });
  }
  return n;
}
