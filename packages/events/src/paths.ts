import { LogPaths } from '@bucketdb/log';

/** Shards of the per-stream index in a checkpoint; a cold reader of one stream GETs one of them. */
export const INDEX_SHARDS = 16;

/**
 * The key layout of one event store, and its only owner. With the prefix `app/events`:
 *
 * ```
 * app/events/log/00000000000000000042                        record 42: a batch of appends (the commit log's)
 * app/events/checkpoints/00000000000000000256/_manifest      checkpoint 256's commit point (the log's)
 * app/events/checkpoints/00000000000000000256/streams-07     stream index shard 7 at record 256
 * app/events/checkpoints/00000000000000000256/ids            event ids of the idempotency window
 * app/events/_last_checkpoint                                hint (the log's)
 * app/events/groups/orders/state                             consumer group "orders": position, claims, parked (CAS)
 * app/events/groups/orders/members/worker-1                  lease of member "worker-1" of the group
 * app/events/holds/billing-projection                       retention hold: a saved position GC keeps
 * app/events/_gc_floor                                       GC floor (the log's)
 * ```
 *
 * The log owns `log/`, `checkpoints/<v>/_manifest` and the hint; the names of the event store's
 * own checkpoint objects are defined here.
 */
export class EventPaths {
  readonly prefix: string;
  readonly log: LogPaths;

  constructor(prefix = '') {
    this.log = new LogPaths(prefix);
    this.prefix = this.log.prefix;
  }

  /** Folder of every consumer group. */
  get groupsDir(): string {
    return this.prefix === '' ? 'groups/' : `${this.prefix}/groups/`;
  }

  /** The one conditional-PUT object of consumer group `name`. */
  groupState(name: string): string {
    return `${this.groupsDir}${name}/state`;
  }

  /** The group's name from its state key, or undefined for another key. */
  groupOf(key: string): string | undefined {
    const m = /^([^/]+)\/state$/.exec(key.slice(this.groupsDir.length));
    return key.startsWith(this.groupsDir) && m ? m[1] : undefined;
  }

  /** Prefix of the member leases of consumer group `name` (lease name = member id). */
  groupMembers(name: string): string {
    return `${this.groupsDir}${name}/members/`;
  }

  /** Folder of the retention holds. */
  get holdsDir(): string {
    return this.prefix === '' ? 'holds/' : `${this.prefix}/holds/`;
  }

  /** Retention hold `name`: a position whose later records GC keeps. */
  hold(name: string): string {
    return `${this.holdsDir}${name}`;
  }

  /** Checkpoint object name of index shard `shard`. */
  static shardName(shard: number): string {
    return `streams-${String(shard).padStart(2, '0')}`;
  }

  static readonly idsName = 'ids';

  /** The shard that holds `stream`'s entry (FNV-1a of its UTF-16 code units). */
  static shardOf(stream: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < stream.length; i++) {
      h ^= stream.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return (h >>> 0) % INDEX_SHARDS;
  }
}
