import type { User } from '../auth/index.js';
import type { ServerState } from './context.js';

/** S3's Owner / Initiator / Grantee element of a user: their configured canonical id and name. */
export interface Party {
  ID: string;
  DisplayName: string;
}

/** The id S3 shows for a user: `User.id` when configured, else the access key id. */
const canonicalId = (user: User | undefined, accessKeyId: string): string => user?.id ?? accessKeyId;

/** The party of a recorded owner or initiator (recorded by access key id). */
export function ownerParty(state: Pick<ServerState, 'users'>, accessKeyId: string): Party {
  const user = state.users.get(accessKeyId);
  return { ID: canonicalId(user, accessKeyId), DisplayName: user?.name ?? accessKeyId };
}

/** Whether `id` names the recorded owner, by canonical id or by access key id. */
export function isOwnerId(state: Pick<ServerState, 'users'>, accessKeyId: string, id: string): boolean {
  return id === accessKeyId || id === ownerParty(state, accessKeyId).ID;
}
