import type { PublicAccessBlock } from '../engine/buckets.js';
import { type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { text } from '../http/xml.js';
import { S3Error } from '../s3-error.js';
import { readXmlBody } from './request-xml.js';

/** The four settings as S3's XML names them. */
const ELEMENTS: [keyof PublicAccessBlock, string][] = [
  ['blockPublicAcls', 'BlockPublicAcls'],
  ['ignorePublicAcls', 'IgnorePublicAcls'],
  ['blockPublicPolicy', 'BlockPublicPolicy'],
  ['restrictPublicBuckets', 'RestrictPublicBuckets'],
];

/** PutPublicAccessBlock: stored in the bucket's record; a setting left out is false, as in S3. */
export async function putPublicAccessBlock(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const doc = await readXmlBody(ctx, 'PublicAccessBlockConfiguration');
  const settings = {} as PublicAccessBlock;
  for (const [field, element] of ELEMENTS) {
    const value = text(doc[element])?.trim().toLowerCase();
    if (value !== undefined && value !== 'true' && value !== 'false') {
      throw new S3Error('MalformedXML', `${element} must be true or false`);
    }
    settings[field] = value === 'true';
  }
  await ctx.state.buckets.update(bucket.name, (record) => {
    record.publicAccessBlock = settings;
  });
  return { status: 200 };
}

export async function getPublicAccessBlock(ctx: RequestContext): Promise<S3Response> {
  const { name, publicAccessBlock } = requireBucket(ctx);
  if (!publicAccessBlock) {
    throw new S3Error('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', {
      BucketName: name,
    });
  }
  return xmlResponse(
    'PublicAccessBlockConfiguration',
    Object.fromEntries(ELEMENTS.map(([field, element]) => [element, publicAccessBlock[field]])),
  );
}

export async function deletePublicAccessBlock(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  await ctx.state.buckets.update(bucket.name, (record) => {
    delete record.publicAccessBlock;
  });
  return { status: 204 };
}
