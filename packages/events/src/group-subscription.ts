import type { LogRecord } from '@bucketdb/log';
import { isLeaseError, type LeaseGrant, type Leases, Mutex, mapConcurrent } from '@bucketdb/store';
import type { ConsumerGroups } from './consumer-groups.js';
import { EventsError } from './errors.js';
import {
  applySettles,
  claimable,
  claimEvents,
  type GroupState,
  keyPosition,
  pendingKey,
  type SettleAction,
  type SettleOp,
} from './group-state.js';
import { comparePositions } from './position.js';
import type { RecordSource } from './record-source.js';
import { recordEvents, type StoredEvent, toRecorded } from './record-events.js';
import { brokenForTests } from './test-hooks.js';
import type { RecordedEvent } from './types.js';

/** Log records a member GETs at once when it reads past what the group has scanned. */
const READ_AHEAD = 8;

export interface SubscribeToGroupOptions {
  /** This subscriber's member id; one live subscriber per id (its lease). */
  memberId: string;
  /** Events claimed at once and held for this subscriber (default 16). */
  bufferSize?: number;
  /** Member lease duration, renewed at a third of it (default 10 s). */
  leaseTtlMs?: number;
  /** Claims and leases of others are taken over only this long after they end (default 1 s). */
  maxClockSkewMs?: number;
  /** Idle polling: first wait (default 10 ms), doubling up to `pollMaxMs` (default 200 ms). */
  pollMinMs?: number;
  pollMaxMs?: number;
}

/** An event given to one member of a group; settle it with `ack` or `nack`. */
export interface GroupEvent {
  event: RecordedEvent;
  /** 1 for the first delivery. */
  attempt: number;
  /** Claim token: unique per delivery within the group. */
  token: number;
  /** Until when (wall-clock ms) this member owns the event; after that it may go to another member. */
  ownedUntil: number;
  /** Done. Rejects with `Fenced` when the event is no longer this member's. */
  ack(): Promise<void>;
  /**
   * `retry`: deliver again (parked once `maxRetries` is exceeded); `park`: put aside for
   * `replayParked`; `skip`: drop it. Rejects with `Fenced` like `ack`.
   */
  nack(action: 'retry' | 'park' | 'skip', reason?: string): Promise<void>;
}

export interface GroupMemberDeps {
  groups: ConsumerGroups;
  source: RecordSource;
  matcher: (settings: GroupState['settings']) => (s: StoredEvent) => boolean;
  /** Takes in the records read past what the group scanned before they are matched (stream metadata). */
  observe?: (records: LogRecord[]) => Promise<void>;
}

interface Queued {
  op: SettleOp;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * One member of a consumer group (docs/design/events.md, "Consumer groups"). Holds the member
 * id's lease while it runs; claims events by compare-and-swap on the group's state object, a
 * batch at a time (reading records past what the group scanned when it runs out), and settles
 * them the same way: settles queued while a write is in flight share the next one.
 */
export class GroupSubscription implements AsyncIterable<GroupEvent>, AsyncDisposable {
  readonly group: string;
  readonly memberId: string;
  readonly #deps: GroupMemberDeps;
  readonly #options: Required<Omit<SubscribeToGroupOptions, 'memberId'>>;
  readonly #leases: Leases;
  readonly #abort = new AbortController();
  readonly #mutex = new Mutex();
  readonly #events: AsyncGenerator<GroupEvent>;
  readonly #records = new Map<number, LogRecord>();
  #queue: Queued[] = [];
  #lease: LeaseGrant | undefined;
  #incarnation: string | undefined;
  /** Claimed, not yet handed to the caller. */
  #buffer: GroupEvent[] = [];
  #failure: unknown;
  #renewing: Promise<void> | undefined;
  #markStarted!: () => void;
  /** Settles once the member holds its lease and is registered in the group. */
  readonly started: Promise<void> = new Promise((resolve) => {
    this.#markStarted = resolve;
  });

  constructor(deps: GroupMemberDeps, group: string, options: SubscribeToGroupOptions) {
    this.#deps = deps;
    this.group = group;
    this.memberId = options.memberId;
    this.#options = {
      bufferSize: options.bufferSize ?? 16,
      leaseTtlMs: options.leaseTtlMs ?? 10_000,
      maxClockSkewMs: options.maxClockSkewMs ?? 1000,
      pollMinMs: options.pollMinMs ?? 10,
      pollMaxMs: options.pollMaxMs ?? 200,
    };
    this.#leases = deps.groups.leases(group, this.#options.maxClockSkewMs);
    this.#events = this.#run();
  }

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  [Symbol.asyncIterator](): AsyncIterator<GroupEvent> {
    return this.#events;
  }

  /**
   * Stops: events claimed but not handed out go back to the group at once; events handed out and
   * not settled stay this member's until their ack timeout (settle them first to hand them on).
   * Releases the member lease.
   */
  async close(): Promise<void> {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort();
    await this.#renewing?.catch(() => {});
    const lease = this.#lease;
    if (!lease) return;
    try {
      await this.#mutex.run(async () => {
        const unsent = this.#buffer;
        this.#buffer = [];
        await this.#flush();
        if (unsent.length > 0 && this.#incarnation) {
          await this.#deps.groups.update(
            this.group,
            (state) => {
              let write = false;
              for (const e of unsent) {
                const entry = state.pending[pendingKey(e.event.position)];
                if (entry?.claim?.token !== e.token) continue;
                delete entry.claim;
                entry.attempts--;
                write = true;
              }
              return { write, result: undefined };
            },
            this.#incarnation,
          );
        }
      });
    } finally {
      this.#lease = undefined;
      await this.#leases.release(lease).catch(() => false);
    }
  }

  /**
   * Ends like a crashed process: no release of claims or lease (they time out). For tests of
   * what other members do when one dies.
   */
  abandon(): void {
    this.#abort.abort();
    this.#lease = undefined;
    for (const q of this.#queue) q.reject(new EventsError('Closed', 'the member was abandoned'));
    this.#queue = [];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async *#run(): AsyncGenerator<GroupEvent> {
    const groups = this.#deps.groups;
    try {
      this.#lease = await this.#leases.acquire(this.memberId, {
        ttlMs: this.#options.leaseTtlMs,
        holder: this.memberId,
      });
    } catch (error) {
      if (isLeaseError(error, 'LeaseHeld')) {
        throw new EventsError(
          'MemberActive',
          `member ${JSON.stringify(this.memberId)} of group ${JSON.stringify(this.group)} is held by another live subscriber`,
          { cause: error },
        );
      }
      throw error;
    }
    const fencing = this.#lease.fencingToken;
    const { state } = await groups.update(this.group, (s) => {
      const seen = s.members[this.memberId]?.fencing ?? 0;
      if (seen > fencing) {
        throw new EventsError('Fenced', `member ${JSON.stringify(this.memberId)} was taken over by a newer subscriber`);
      }
      s.members[this.memberId] = { fencing };
      return { write: seen !== fencing, result: undefined };
    });
    this.#incarnation = state.incarnation;
    this.#renewing = this.#renewLoop();
    this.#markStarted();
    let wait = 0;
    while (!this.closed) {
      if (this.#failure) throw this.#failure;
      const next = this.#buffer.shift();
      if (next) {
        wait = 0;
        yield next;
        continue;
      }
      const claimed = await this.#mutex.run(() => this.#claim());
      if (this.closed) return;
      if (claimed > 0) continue;
      wait = wait === 0 ? this.#options.pollMinMs : Math.min(this.#options.pollMaxMs, wait * 2);
      await this.#deps.groups.clock.sleep(wait);
    }
    if (this.#failure) throw this.#failure;
  }

  /** Renews the lease at a third of its duration; a lost lease ends the subscription. */
  async #renewLoop(): Promise<void> {
    const clock = this.#deps.groups.clock;
    while (!this.closed) {
      await clock.sleep(this.#options.leaseTtlMs / 3);
      const lease = this.#lease;
      if (this.closed || !lease) return;
      try {
        this.#lease = await this.#leases.renew(lease, { ttlMs: this.#options.leaseTtlMs });
      } catch (error) {
        if (isLeaseError(error, 'LeaseLost')) {
          this.#failure = new EventsError('Fenced', `member ${JSON.stringify(this.memberId)} lost its lease`, {
            cause: error,
          });
          this.#abort.abort();
          return;
        }
        // A failed renewal request: the next lap tries again while the lease is still valid.
      }
    }
  }

  /** Reads past what the group has scanned if there is room, then claims a batch; returns how many were claimed. */
  async #claim(): Promise<number> {
    const groups = this.#deps.groups;
    const { state: seen } = await groups.mustRead(this.group);
    const room = Object.keys(seen.pending).length < seen.settings.maxPending;
    const now = groups.now();
    const enough =
      Object.values(seen.pending).filter((e) => claimable(seen, e, now, this.#options.maxClockSkewMs)).length >=
      this.#options.bufferSize;
    const fresh: LogRecord[] = [];
    if (room && !enough) {
      // The next slot; if it is there, the ones after it in parallel (slots fill in order, so the
      // records found up to the first empty slot are the next ones). Idle, this is one GET.
      const read = (v: number) => this.#records.get(v) ?? this.#deps.source.tryRead(v);
      const first = await read(seen.scanned + 1);
      const more = Array.from({ length: READ_AHEAD - 1 }, (_, i) => seen.scanned + 2 + i);
      const found = first ? [first, ...(await mapConcurrent(more, READ_AHEAD, async (v) => read(v)))] : [];
      for (const record of found) {
        if (!record) break;
        this.#remember(record);
        fresh.push(record);
      }
    }
    if (fresh.length > 0) await this.#deps.observe?.(fresh);
    const fencing = this.#lease?.fencingToken ?? 0;
    const queued = this.#take();
    const { result } = await groups
      .update(
        this.group,
        (state) => {
          const results = this.#applyQueued(state, queued);
          let write = results.some(Boolean);
          const matches = fresh.length > 0 ? this.#deps.matcher(state.settings) : () => false;
          for (const record of fresh) {
            if (
              record.version !== state.scanned + 1 ||
              Object.keys(state.pending).length >= state.settings.maxPending
            ) {
              continue;
            }
            for (const s of recordEvents(record)) {
              if (comparePositions(s.position, state.settings.after) <= 0 || !matches(s)) continue;
              state.pending[pendingKey(s.position)] = { stream: s.stream, revision: s.revision, attempts: 0 };
            }
            state.scanned = record.version;
            write = true;
          }
          if (state.members[this.memberId]?.fencing !== fencing) {
            throw new EventsError(
              'Fenced',
              `member ${JSON.stringify(this.memberId)} was taken over by a newer subscriber`,
            );
          }
          const { claims, changed } = claimEvents(
            state,
            this.memberId,
            fencing,
            groups.now(),
            this.#options.bufferSize,
            this.#options.maxClockSkewMs,
          );
          return { write: write || changed, result: { claims, results } };
        },
        this.#incarnation,
      )
      .catch((error: unknown) => {
        for (const q of queued) q.reject(error);
        throw error;
      });
    this.#settled(queued, result.results);
    for (const { key, entry } of result.claims) {
      const position = keyPosition(key);
      const record = this.#records.get(position.record) ?? (await this.#readRecord(position.record));
      const stored = recordEvents(record)[position.index];
      if (!stored) throw new EventsError('Corrupt', `log record ${position.record} has no event ${position.index}`);
      const claim = entry.claim as NonNullable<typeof entry.claim>;
      this.#buffer.push(this.#groupEvent(toRecorded(stored), entry.attempts, claim.token, claim.until, fencing));
    }
    return result.claims.length;
  }

  #groupEvent(event: RecordedEvent, attempt: number, token: number, ownedUntil: number, fencing: number): GroupEvent {
    const settle = (action: SettleAction, reason?: string) =>
      this.#settle({
        key: pendingKey(event.position),
        token,
        member: this.memberId,
        fencing,
        action,
        ...(reason === undefined ? {} : { reason }),
      });
    return {
      event,
      attempt,
      token,
      ownedUntil,
      ack: () => settle('ack'),
      nack: (action, reason) => {
        if (action !== 'retry' && action !== 'park' && action !== 'skip') {
          return Promise.reject(
            new EventsError('InvalidArgument', `nack takes 'retry', 'park' or 'skip', got ${JSON.stringify(action)}`),
          );
        }
        return settle(action, reason);
      },
    };
  }

  /** Queues a settle; the next write of this member carries it (settles that arrive meanwhile share it). */
  #settle(op: SettleOp): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.#queue.push({ op, resolve, reject }));
    void this.#mutex.run(() => this.#flush()).catch(() => {});
    return done;
  }

  async #flush(): Promise<void> {
    const queued = this.#take();
    if (queued.length === 0 || !this.#incarnation) return;
    const groups = this.#deps.groups;
    try {
      const { result } = await groups.update(
        this.group,
        (state) => {
          const results = this.#applyQueued(state, queued);
          return { write: results.some(Boolean), result: results };
        },
        this.#incarnation,
      );
      this.#settled(queued, result);
    } catch (error) {
      for (const q of queued) q.reject(error);
    }
  }

  /** Applies queued settles to a state being written (fenced by claim token, except in the broken test build). */
  #applyQueued(state: GroupState, queued: Queued[]): boolean[] {
    return applySettles(
      state,
      queued.map((q) => q.op),
      this.#deps.groups.now(),
      !brokenForTests.unfencedSettles,
    );
  }

  #take(): Queued[] {
    const queued = this.#queue;
    this.#queue = [];
    return queued;
  }

  #settled(queued: Queued[], results: boolean[]): void {
    queued.forEach((q, i) => {
      if (results[i]) q.resolve();
      else
        q.reject(
          new EventsError(
            'Fenced',
            `event ${q.op.key} of group ${JSON.stringify(this.group)} is no longer owned by member ${JSON.stringify(q.op.member)} (claim ${q.op.token})`,
          ),
        );
    });
  }

  async #readRecord(version: number): Promise<LogRecord> {
    const record = await this.#deps.source.tryRead(version);
    if (!record) throw new EventsError('Corrupt', `log record ${version}, pending in a consumer group, is missing`);
    this.#remember(record);
    return record;
  }

  /** A few recent records, so a claim right after a read does not GET them again. */
  #remember(record: LogRecord): void {
    this.#records.set(record.version, record);
    while (this.#records.size > 64) this.#records.delete(this.#records.keys().next().value as number);
  }
}
