import type { RequestContext, S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';

export async function listBuckets(ctx: RequestContext): Promise<S3Response> {
  const user = ctx.user;
  const buckets = (await ctx.state.buckets.list()).filter((b) => b.owner === user?.accessKeyId);
  return xmlResponse('ListAllMyBucketsResult', {
    Owner: { ID: user?.accessKeyId, DisplayName: user?.name ?? user?.accessKeyId },
    Buckets: {
      Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: b.created, BucketRegion: ctx.state.region })),
    },
  });
}
