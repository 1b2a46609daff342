import { type BucketRecord, type CannedAcl, refusePublicAcl } from '../engine/buckets.js';
import { CANNED_GRANTS, type Grants } from '../engine/canned-grants.js';
import type { ObjectAcl } from '../engine/object-meta.js';
import { header, type RequestContext, requireBucket, requireKey, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { many, record, text } from '../http/xml.js';
import { S3Error } from '../s3-error.js';
import { readXmlBody } from './request-xml.js';
import { isOwnerId, ownerParty } from '../http/owner-party.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** The AccessControlPolicy S3 shows: the owner's FULL_CONTROL, then the groups' grants. */
function aclDocument(ctx: RequestContext, ownerId: string, grants: Grants): S3Response {
  const owner = ownerParty(ctx.state, ownerId);
  const group = (URI: string) => ({ '@xmlns:xsi': XSI, '@xsi:type': 'Group', URI });
  const list: { Grantee: Record<string, string>; Permission: string }[] = [
    { Grantee: { '@xmlns:xsi': XSI, '@xsi:type': 'CanonicalUser', ...owner }, Permission: 'FULL_CONTROL' },
    ...grants.allUsers.map((Permission) => ({ Grantee: group(ALL_USERS), Permission })),
    ...grants.authenticatedUsers.map((Permission) => ({ Grantee: group(AUTHENTICATED_USERS), Permission })),
  ];
  return xmlResponse('AccessControlPolicy', { Owner: owner, AccessControlList: { Grant: list } });
}

export function aclResponse(ctx: RequestContext, bucket: BucketRecord): S3Response {
  return aclDocument(ctx, bucket.owner, CANNED_GRANTS[bucket.acl]);
}

/**
 * The canned ACLs S3 takes on an object, by the grants they add here: every user is the owner of
 * what they write in their bucket, so the bucket-owner ones and aws-exec-read (EC2's bundles) add
 * nothing. public-read-write is kept to be shown as S3 shows it; its WRITE means nothing on an object.
 */
const OBJECT_CANNED_ACLS: Record<string, ObjectAcl | undefined> = {
  private: undefined,
  'public-read': 'public-read',
  'public-read-write': 'public-read-write',
  'authenticated-read': 'authenticated-read',
  'aws-exec-read': undefined,
  'bucket-owner-read': undefined,
  'bucket-owner-full-control': undefined,
};

/** An object write's `x-amz-acl`: `null` when absent, undefined for the private ones. */
export function objectAclHeader(ctx: RequestContext): ObjectAcl | undefined | null {
  const value = header(ctx, 'x-amz-acl');
  if (value === undefined) return null;
  if (!Object.hasOwn(OBJECT_CANNED_ACLS, value)) {
    throw new S3Error('InvalidArgument', `${value} is not a canned ACL`, {
      ArgumentName: 'x-amz-acl',
      ArgumentValue: value.slice(0, 64),
    });
  }
  return OBJECT_CANNED_ACLS[value];
}

/**
 * The canned ACL an AccessControlPolicy document amounts to. Tools such as s3cmd (`setacl
 * --acl-public`) read the ACL, add the AllUsers READ grant and write the document back; only
 * documents that a canned ACL expresses are taken, anything else is NotImplemented.
 */
export function cannedAclOf(doc: Record<string, unknown>, isOwner: (id: string) => boolean): CannedAcl {
  const granted = new Set<string>();
  let ownerFull = false;
  for (const item of many(record(doc.AccessControlList).Grant)) {
    const grant = record(item);
    const grantee = record(grant.Grantee);
    const permission = text(grant.Permission)?.trim() ?? '';
    const uri = text(grantee.URI)?.trim();
    if (isOwner(text(grantee.ID)?.trim() ?? '') && permission === 'FULL_CONTROL') ownerFull = true;
    else if (uri === ALL_USERS && (permission === 'READ' || permission === 'WRITE')) granted.add(permission);
    else if (uri === AUTHENTICATED_USERS && permission === 'READ') granted.add('AUTHENTICATED_READ');
    else throw unsupported();
  }
  if (!ownerFull) throw unsupported();
  const match = Object.entries(CANNED_GRANTS).find(
    ([, grants]) =>
      grants.allUsers.length + grants.authenticatedUsers.length === granted.size &&
      grants.allUsers.every((p) => granted.has(p)) &&
      grants.authenticatedUsers.every(() => granted.has('AUTHENTICATED_READ')),
  );
  if (!match) throw unsupported();
  return match[0] as CannedAcl;
}

const unsupported = () =>
  new S3Error(
    'NotImplemented',
    "Only ACLs a canned ACL expresses are supported: the owner's FULL_CONTROL with AllUsers READ (and WRITE) or AuthenticatedUsers READ",
  );

const versionOf = (ctx: RequestContext) => ctx.query.get('versionId') ?? undefined;

/** GetObjectAcl: the owner's FULL_CONTROL and what the object's canned ACL grants. */
export async function getObjectAcl(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const resolved = await ctx.state.objects.resolve(bucket, requireKey(ctx), versionOf(ctx));
  const acl = resolved.kind === 'object' ? resolved.version.meta.acl : undefined;
  return aclDocument(ctx, bucket.owner, acl === undefined ? CANNED_GRANTS.private : CANNED_GRANTS[acl]);
}

/** PutObjectAcl: a canned ACL in `x-amz-acl`, or a document one amounts to (what s3cmd and boto3 send). */
export async function putObjectAcl(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const fromHeader = objectAclHeader(ctx);
  const acl =
    fromHeader !== null
      ? fromHeader
      : OBJECT_CANNED_ACLS[
          cannedAclOf(await readXmlBody(ctx, 'AccessControlPolicy'), (id) => isOwnerId(ctx.state, bucket.owner, id))
        ];
  refusePublicAcl(bucket, acl);
  await ctx.state.buckets.markListingReadsMeta(bucket);
  const version = await ctx.state.objects.updateMeta(bucket, requireKey(ctx), versionOf(ctx), (meta) => {
    const { acl: _old, ...rest } = meta;
    return acl === undefined ? rest : { ...rest, acl };
  });
  return { status: 200, headers: { 'x-amz-version-id': version.meta.versionId } };
}
