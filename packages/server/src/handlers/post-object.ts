import type { IncomingHttpHeaders } from 'node:http';
import { decodeRequestBody, UNSIGNED_ANONYMOUS } from '../auth/index.js';
import { checkPostPolicy, isIgnored } from '../auth/post-policy-check.js';
import { parsePostPolicy } from '../auth/post-policy.js';
import { verifyPostSignature } from '../auth/post-signature.js';
import { authorize } from '../http/access.js';
import { header, type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { checkKey } from '../http/target.js';
import { S3Error } from '../s3-error.js';
import { newObjectMeta } from './object-headers.js';
import { type PostForm, readPostForm } from './post-form.js';
import { postResponse } from './post-response.js';
import { declareChecksum, finishChecksum, MAX_PUT_BYTES } from './put-object.js';
import { sizedBody } from './sized-body.js';

/**
 * POST Object: a browser uploads through an HTML form (multipart/form-data) whose signed policy
 * says what it may upload. The fields before the file are read first; then the signature, the
 * bucket's access and every policy condition are checked before a byte of the file is stored,
 * and the file streams into the same write path as PutObject, its size checked as it goes.
 */
export async function postObject(ctx: RequestContext): Promise<S3Response> {
  const contentType = header(ctx, 'content-type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: 'Bucket POST must be of the enclosure-type multipart/form-data',
    });
  }
  // A missing bucket is refused before the form is uploaded.
  const bucketName = ctx.bucketName ?? '';
  if (!(await ctx.state.buckets.find(bucketName))) {
    throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucketName });
  }
  const form = await readPostForm(ctx.body().body, contentType);
  try {
    return await store(ctx, form);
  } catch (error) {
    form.discard();
    throw error;
  }
}

async function store(ctx: RequestContext, form: PostForm): Promise<S3Response> {
  const { fields } = form;
  const { key, range } = await admit(ctx, form);
  const bucket = requireBucket(ctx);
  // The fields stand for PutObject's headers (Content-Type, x-amz-meta-*, x-amz-checksum-*, …).
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of fields) if (!isIgnored(name)) headers[name] = value;
  const acl = fields.get('acl');
  if (acl !== undefined) headers['x-amz-acl'] = acl;
  const formCtx: RequestContext = { ...ctx, headers };
  const { meta, contentType } = newObjectMeta(formCtx, {});
  // The file's own bytes carry no signature: the form's policy is what was signed.
  const decoded = decodeRequestBody(sizedBody(form.file, range), checksumFields(fields), UNSIGNED_ANONYMOUS);
  const algorithm = declareChecksum(formCtx, decoded, meta);
  const result = await ctx.state.objects.put(
    bucket,
    key,
    { body: decoded.body, meta, ...(contentType === undefined ? {} : { contentType }) },
    {},
  );
  const checksumHeaders = await finishChecksum(formCtx, decoded, algorithm, result);
  return postResponse(ctx, fields, {
    bucket: bucket.name,
    key,
    etag: result.etag,
    headers: { 'x-amz-version-id': bucket.versioning === 'Enabled' ? result.versionId : undefined, ...checksumHeaders },
  });
}

/**
 * Who is posting and what they may store: the policy's signer (anonymous without a policy, which
 * only a public-read-write bucket accepts), the key with `${filename}` replaced, and the file
 * sizes the policy allows.
 */
async function admit(ctx: RequestContext, form: PostForm) {
  const { fields } = form;
  const policyText = fields.get('policy');
  ctx.user =
    policyText === undefined ? undefined : verifyPostSignature(fields, policyText, (id) => ctx.state.users.get(id));
  // The form's upload is a PutObject by whoever signed the policy (the `form` rule in authorization.ts).
  await authorize(ctx, 'PutObject');
  const bucket = requireBucket(ctx);
  const template = fields.get('key');
  if (template === undefined) {
    throw new S3Error(
      'InvalidArgument',
      "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
      { ArgumentName: 'key' },
    );
  }
  const key = template.replaceAll('${filename}', form.filename);
  if (key === '') {
    throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { ArgumentName: 'key' });
  }
  checkKey(bucket.name, key);
  if (policyText === undefined) return { key, range: { min: 0, max: MAX_PUT_BYTES } };
  // The bucket is the one posted to, whatever a `bucket` field says; the key is the final one.
  const checked = new Map(fields).set('bucket', bucket.name).set('key', key);
  const allowed = checkPostPolicy(parsePostPolicy(policyText), checked, new Date());
  return { key, range: { min: allowed.min, max: Math.min(allowed.max, MAX_PUT_BYTES) } };
}

/** The fields that describe the file's checksum, as the body decoder reads them from headers. */
function checksumFields(fields: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of fields) {
    if (name === 'content-md5' || name.startsWith('x-amz-checksum-')) out[name] = value;
  }
  return out;
}
