import type { BucketRecord, CannedAcl } from '../engine/buckets.js';
import { type RequestContext, requireBucket, requireKey, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { many, record, text } from '../http/xml.js';
import { S3Error } from '../s3-error.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** The AccessControlPolicy S3 shows for a canned ACL: the owner's FULL_CONTROL, then AllUsers' grants. */
export function aclResponse(ctx: RequestContext, bucket: BucketRecord): S3Response {
  const owner = { ID: bucket.owner, DisplayName: ctx.state.users.get(bucket.owner)?.name ?? bucket.owner };
  const allUsers = { '@xmlns:xsi': XSI, '@xsi:type': 'Group', URI: ALL_USERS };
  const grants: { Grantee: Record<string, string>; Permission: string }[] = [
    { Grantee: { '@xmlns:xsi': XSI, '@xsi:type': 'CanonicalUser', ...owner }, Permission: 'FULL_CONTROL' },
  ];
  if (bucket.acl !== 'private') grants.push({ Grantee: allUsers, Permission: 'READ' });
  if (bucket.acl === 'public-read-write') grants.push({ Grantee: allUsers, Permission: 'WRITE' });
  return xmlResponse('AccessControlPolicy', { Owner: owner, AccessControlList: { Grant: grants } });
}

/**
 * The canned ACL an AccessControlPolicy document amounts to. Tools such as s3cmd (`setacl
 * --acl-public`) read the ACL, add the AllUsers READ grant and write the document back; only
 * documents that a canned ACL expresses are taken, anything else is NotImplemented.
 */
export function cannedAclOf(doc: Record<string, unknown>, owner: string): CannedAcl {
  const granted = new Set<string>();
  let ownerFull = false;
  for (const item of many(record(doc.AccessControlList).Grant)) {
    const grant = record(item);
    const grantee = record(grant.Grantee);
    const permission = text(grant.Permission)?.trim() ?? '';
    if (text(grantee.ID)?.trim() === owner && permission === 'FULL_CONTROL') ownerFull = true;
    else if (text(grantee.URI)?.trim() === ALL_USERS && (permission === 'READ' || permission === 'WRITE')) {
      granted.add(permission);
    } else throw unsupported();
  }
  if (!ownerFull) throw unsupported();
  if (granted.has('WRITE')) {
    if (!granted.has('READ')) throw unsupported();
    return 'public-read-write';
  }
  return granted.has('READ') ? 'public-read' : 'private';
}

const unsupported = () =>
  new S3Error(
    'NotImplemented',
    "Only ACLs a canned ACL expresses are supported: the owner's FULL_CONTROL and AllUsers READ (and WRITE)",
  );

/** GetObjectAcl: objects have no ACL of their own here, so their bucket's decides who reads them. */
export async function getObjectAcl(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  await ctx.state.objects.resolve(bucket, requireKey(ctx), ctx.query.get('versionId') ?? undefined);
  return aclResponse(ctx, bucket);
}
