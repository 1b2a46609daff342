import { randomBytes } from 'node:crypto';
import {
  backoffDelay,
  type Clock,
  compareAndSwap,
  isStoreError,
  Leases,
  type ObjectStore,
  putIfAbsent,
  retry,
} from '@bucketdb/store';
import { EventsError } from './errors.js';
import {
  type GroupSettings,
  type GroupState,
  decodeGroupState,
  encodeGroupState,
  pendingInOrder,
} from './group-state.js';
import type { EventPaths } from './paths.js';
import { checkPosition } from './position.js';
import type { EventFilter, Position } from './types.js';

export interface CreateGroupOptions {
  /** A stream name, or `$all` (default). */
  stream?: string;
  filter?: EventFilter;
  /** Deliver events after this position (exclusive), 'start' (default) or 'end' (the head now). */
  from?: Position | 'start' | 'end';
  /** Deliveries after the first before an unacknowledged event is parked (default 10). */
  maxRetries?: number;
  /** How long a member owns a delivered event before it goes to another member (default 30 s). */
  ackTimeoutMs?: number;
  /** Most unsettled events tracked at once (default 1000). */
  maxPending?: number;
}

export interface GroupMemberInfo {
  member: string;
  /** Lease fencing token of its newest subscriber. */
  fencing: number;
  /** Whether a subscriber holds the member's lease now, and until when (wall-clock ms). */
  live: boolean;
  leaseExpiresAt?: number;
  /** Events it owns now. */
  claimed: number;
}

export interface GroupInfo {
  name: string;
  settings: GroupSettings;
  createdAt: number;
  /** Every delivered event of records up to here is pending or settled. */
  scannedRecord: number;
  /** Unsettled events, and how many of them a member owns now. */
  pending: number;
  inFlight: number;
  acked: number;
  skipped: number;
  parked: GroupState['parked'];
  members: GroupMemberInfo[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkGroupName(name: unknown, what = 'a consumer group name'): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new EventsError(
      'InvalidArgument',
      `${what} is 1-128 characters of letters, digits, '.', '_' and '-', starting with a letter or digit; got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

const newId = () => randomBytes(9).toString('base64url');

/**
 * The consumer groups of one event store: each group is one JSON object changed only by
 * compare-and-swap (`GroupState`), plus one lease per member id (the kernel's `Leases`).
 */
export class ConsumerGroups {
  readonly store: ObjectStore;
  readonly paths: EventPaths;
  /** Wall-clock ms since the epoch: claims and leases are compared across processes. */
  readonly now: () => number;
  readonly clock: Clock;
  readonly random: () => number;

  constructor(
    store: ObjectStore,
    paths: EventPaths,
    options: { now: () => number; clock: Clock; random: () => number },
  ) {
    this.store = store;
    this.paths = paths;
    this.now = options.now;
    this.clock = options.clock;
    this.random = options.random;
  }

  leases(name: string, maxClockSkewMs: number): Leases {
    return new Leases(this.store, { prefix: this.paths.groupMembers(name), clock: this.now, maxClockSkewMs });
  }

  /** Creates the group; an existing group with the same settings is fine (a retried create), other settings are `GroupExists`. */
  async create(name: string, settings: Omit<GroupSettings, 'after'>, after: Position): Promise<GroupInfo> {
    checkGroupName(name);
    const state: GroupState = {
      format: 1,
      name,
      incarnation: newId(),
      writeId: newId(),
      seq: 0,
      createdAt: this.now(),
      settings: { ...settings, after },
      // After the whole of a record (a start after the GC floor, or 'end'): that record is done.
      scanned: after.index === Number.MAX_SAFE_INTEGER ? after.record : Math.max(0, after.record - 1),
      pending: {},
      parked: [],
      members: {},
      nextToken: 1,
      acked: 0,
      skipped: 0,
    };
    const outcome = await putIfAbsent(this.store, this.paths.groupState(name), encodeGroupState(state), {
      isOurs: (existing) => {
        try {
          return decodeGroupState(name, existing).writeId === state.writeId;
        } catch {
          return false;
        }
      },
      random: this.random,
    });
    if (!outcome.created) {
      const existing = decodeGroupState(name, outcome.existing);
      if (JSON.stringify(existing.settings) !== JSON.stringify(state.settings)) {
        throw new EventsError(
          'GroupExists',
          `consumer group ${JSON.stringify(name)} already exists with other settings`,
        );
      }
    }
    return this.info(name);
  }

  /** The group's state and ETag, or undefined when there is no such group. */
  async read(name: string): Promise<{ etag: string; state: GroupState } | undefined> {
    const key = this.paths.groupState(name);
    const got = await retry(
      async () => {
        try {
          return await this.store.get(key);
        } catch (error) {
          if (isStoreError(error, 'NotFound')) return undefined;
          throw error;
        }
      },
      { random: this.random },
    );
    return got && { etag: got.etag, state: decodeGroupState(name, got.body) };
  }

  async mustRead(name: string): Promise<{ etag: string; state: GroupState }> {
    const got = await this.read(name);
    if (!got) throw notFound(name);
    return got;
  }

  /**
   * Reads the state, lets `mutate` change a copy (returning false: nothing to write) and writes
   * it back if nobody wrote in between; else again on the fresh state. `incarnation`, when given,
   * must still be the group's (a deleted and re-created group is another group).
   */
  async update<R>(
    name: string,
    mutate: (state: GroupState) => { write: boolean; result: R },
    incarnation?: string,
  ): Promise<{ result: R; state: GroupState }> {
    for (let lap = 0; ; lap++) {
      const { etag, state } = await this.mustRead(name);
      if (incarnation !== undefined && state.incarnation !== incarnation) throw notFound(name);
      const { write, result } = mutate(state);
      if (!write) return { result, state };
      state.seq++;
      state.writeId = newId();
      const writeId = state.writeId;
      const outcome = await compareAndSwap(this.store, this.paths.groupState(name), encodeGroupState(state), {
        expected: etag,
        contentType: 'application/json',
        isOurs: (current) => {
          try {
            return decodeGroupState(name, current.body).writeId === writeId;
          } catch {
            return false;
          }
        },
        random: this.random,
      });
      if (outcome.swapped) return { result, state };
      if (outcome.current === undefined) throw notFound(name);
      // Another member wrote first: spread the contenders out a little before the next lap.
      await this.clock.sleep(backoffDelay(lap, { random: this.random, capMs: 50 }));
    }
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    for await (const entry of this.store.list({ prefix: this.paths.groupsDir })) {
      const name = entry.kind === 'object' ? this.paths.groupOf(entry.key) : undefined;
      if (name !== undefined) names.push(name);
    }
    return names.sort();
  }

  async info(name: string): Promise<GroupInfo> {
    checkGroupName(name);
    const { state } = await this.mustRead(name);
    const now = this.now();
    const leases = this.leases(name, 0);
    const claimedBy = new Map<string, number>();
    let inFlight = 0;
    for (const entry of Object.values(state.pending)) {
      if (entry.claim && now < entry.claim.until) {
        inFlight++;
        claimedBy.set(entry.claim.member, (claimedBy.get(entry.claim.member) ?? 0) + 1);
      }
    }
    const members = await Promise.all(
      Object.entries(state.members).map(async ([member, m]) => {
        const lease = await leases.inspect(member);
        const live = lease !== undefined && !lease.released && now < lease.expiresAt;
        return {
          member,
          fencing: m.fencing,
          live,
          ...(lease ? { leaseExpiresAt: lease.expiresAt } : {}),
          claimed: claimedBy.get(member) ?? 0,
        };
      }),
    );
    return {
      name,
      settings: state.settings,
      createdAt: state.createdAt,
      scannedRecord: state.scanned,
      pending: Object.keys(state.pending).length,
      inFlight,
      acked: state.acked,
      skipped: state.skipped,
      parked: state.parked,
      members: members.sort((a, b) => (a.member < b.member ? -1 : 1)),
    };
  }

  /** Puts parked events back to be delivered again (all, or those at `positions`); returns how many. */
  async replayParked(name: string, positions?: Position[]): Promise<number> {
    checkGroupName(name);
    const wanted = positions && new Set(positions.map((p) => `${p.record}:${p.index}`));
    const { result } = await this.update(name, (state) => {
      const back = state.parked.filter((p) => !wanted || wanted.has(`${p.position.record}:${p.position.index}`));
      if (back.length === 0) return { write: false, result: 0 };
      state.parked = state.parked.filter((p) => !back.includes(p));
      for (const p of back) {
        state.pending[`${p.position.record}:${p.position.index}`] = {
          stream: p.stream,
          revision: p.revision,
          attempts: 0,
        };
      }
      return { write: true, result: back.length };
    });
    return result;
  }

  /** Deletes the group's state (its members are fenced: their next write finds no group). Member lease objects stay, so fencing tokens keep rising if the name is reused. */
  async delete(name: string): Promise<boolean> {
    checkGroupName(name);
    if (!(await this.read(name))) return false;
    await this.store.delete(this.paths.groupState(name));
    return true;
  }

  /** The oldest log record any group still needs (its first pending event, or the first record after what it scanned): retention keeps it. */
  async oldestNeededRecord(): Promise<number> {
    let oldest = Number.POSITIVE_INFINITY;
    for (const name of await this.list()) {
      const got = await this.read(name);
      if (!got) continue;
      const first = pendingInOrder(got.state)[0];
      const parked = got.state.parked.map((p) => p.position.record);
      oldest = Math.min(oldest, got.state.scanned + 1, ...parked, first ? Number(first.split(':')[0]) : Infinity);
    }
    return oldest;
  }
}

export function notFound(name: string): EventsError {
  return new EventsError('GroupNotFound', `no consumer group ${JSON.stringify(name)}`);
}

/** Validates `createGroup` options into settings. */
export function groupSettings(options: CreateGroupOptions): {
  settings: Omit<GroupSettings, 'after'>;
  from: Position | 'start' | 'end';
} {
  const int = (what: string, value: number | undefined, fallback: number, min: number) => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < min)
      throw new EventsError('InvalidArgument', `${what} must be an integer >= ${min}`);
    return v;
  };
  const stream = options.stream ?? '$all';
  if (typeof stream !== 'string' || stream === '')
    throw new EventsError('InvalidArgument', 'stream must be a stream name or $all');
  const from = options.from ?? 'start';
  if (typeof from === 'object') checkPosition(from, 'from');
  else if (from !== 'start' && from !== 'end')
    throw new EventsError('InvalidArgument', `from must be a position, 'start' or 'end'`);
  const f = options.filter;
  const filter: GroupSettings['filter'] = {};
  if (f?.streamPrefix !== undefined) filter.streamPrefix = f.streamPrefix;
  if (f?.eventType !== undefined) filter.eventType = f.eventType;
  if (f?.regex !== undefined) {
    if (!(f.regex instanceof RegExp)) throw new EventsError('InvalidArgument', 'filter.regex must be a RegExp');
    filter.regex = { source: f.regex.source, flags: f.regex.flags };
  }
  return {
    settings: {
      stream,
      ...(Object.keys(filter).length > 0 ? { filter } : {}),
      maxRetries: int('maxRetries', options.maxRetries, 10, 0),
      ackTimeoutMs: int('ackTimeoutMs', options.ackTimeoutMs, 30_000, 1),
      maxPending: int('maxPending', options.maxPending, 1000, 1),
    },
    from,
  };
}
