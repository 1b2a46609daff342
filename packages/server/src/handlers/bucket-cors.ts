import type { CorsRule } from '../engine/buckets.js';
import { type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { checkHeader } from '../http/header-values.js';
import { xmlResponse } from '../http/respond.js';
import { many, record, text } from '../http/xml.js';
import { S3Error } from '../s3-error.js';
import { readXmlBody } from './request-xml.js';

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];
const MAX_RULES = 100;

const strings = (value: unknown) =>
  many(value).flatMap((v) => (text(v) === undefined ? [] : [(text(v) as string).trim()]));

function parseRule(value: unknown): CorsRule {
  const r = record(value);
  const rule: CorsRule = {
    allowedOrigins: strings(r.AllowedOrigin),
    allowedMethods: strings(r.AllowedMethod),
    allowedHeaders: strings(r.AllowedHeader),
    exposeHeaders: strings(r.ExposeHeader),
  };
  const id = text(r.ID);
  if (id !== undefined) rule.id = id;
  const maxAge = text(r.MaxAgeSeconds);
  if (maxAge !== undefined) {
    if (!/^\d{1,9}$/.test(maxAge.trim())) throw new S3Error('MalformedXML', 'MaxAgeSeconds must be an integer');
    rule.maxAgeSeconds = Number(maxAge);
  }
  if (rule.allowedOrigins.length === 0 || rule.allowedMethods.length === 0) {
    throw new S3Error('MalformedXML', 'A CORSRule needs AllowedOrigin and AllowedMethod');
  }
  for (const method of rule.allowedMethods) {
    if (!METHODS.includes(method)) {
      throw new S3Error(
        'InvalidRequest',
        `Found unsupported HTTP method in CORS config. Unsupported method is ${method.slice(0, 20)}`,
      );
    }
  }
  // Expose headers are sent back as a header's value on every request with an Origin.
  for (const name of rule.exposeHeaders) checkHeader(name, name);
  for (const name of rule.allowedHeaders) checkHeader('AllowedHeader', name);
  for (const origin of rule.allowedOrigins) {
    checkHeader('AllowedOrigin', origin);
    if (origin.split('*').length > 2)
      throw new S3Error('InvalidRequest', 'An AllowedOrigin can have at most one wildcard');
  }
  return rule;
}

export async function putBucketCors(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const doc = await readXmlBody(ctx, 'CORSConfiguration');
  const rules = many(doc.CORSRule).map(parseRule);
  if (rules.length === 0 || rules.length > MAX_RULES) {
    throw new S3Error('MalformedXML', `A CORS configuration has 1 to ${MAX_RULES} rules`);
  }
  await ctx.state.buckets.update(bucket.name, (r) => {
    r.cors = rules;
  });
  return { status: 200 };
}

export async function getBucketCors(ctx: RequestContext): Promise<S3Response> {
  const { cors, name } = requireBucket(ctx);
  if (!cors)
    throw new S3Error('NoSuchCORSConfiguration', 'The CORS configuration does not exist', { BucketName: name });
  return xmlResponse('CORSConfiguration', {
    CORSRule: cors.map((rule) => ({
      ID: rule.id,
      AllowedHeader: rule.allowedHeaders,
      AllowedMethod: rule.allowedMethods,
      AllowedOrigin: rule.allowedOrigins,
      ExposeHeader: rule.exposeHeaders,
      MaxAgeSeconds: rule.maxAgeSeconds,
    })),
  });
}

export async function deleteBucketCors(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  await ctx.state.buckets.update(bucket.name, (r) => {
    delete r.cors;
  });
  return { status: 204 };
}
