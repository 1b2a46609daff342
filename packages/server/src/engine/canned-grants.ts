import type { CannedAcl } from './buckets.js';

/** What a canned ACL grants beyond the owner's FULL_CONTROL. */
export interface Grants {
  allUsers: ('READ' | 'WRITE')[];
  authenticatedUsers: 'READ'[];
}

/** S3's canned ACLs, for buckets and objects alike (on an object, WRITE means nothing). */
export const CANNED_GRANTS: Record<CannedAcl, Grants> = {
  private: { allUsers: [], authenticatedUsers: [] },
  'public-read': { allUsers: ['READ'], authenticatedUsers: [] },
  'public-read-write': { allUsers: ['READ', 'WRITE'], authenticatedUsers: [] },
  'authenticated-read': { allUsers: [], authenticatedUsers: ['READ'] },
};

/** Whether `acl` grants READ (list a bucket, read an object) to someone other than the owner. */
export function grantsRead(acl: CannedAcl | undefined, signedIn: boolean): boolean {
  if (acl === undefined) return false;
  const { allUsers, authenticatedUsers } = CANNED_GRANTS[acl];
  return allUsers.includes('READ') || (signedIn && authenticatedUsers.includes('READ'));
}

/** Whether `acl` grants anonymous WRITE (a bucket's objects). */
export const grantsWrite = (acl: CannedAcl): boolean => CANNED_GRANTS[acl].allUsers.includes('WRITE');
