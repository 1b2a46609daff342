import { EventsError } from './errors.js';
import type { Position } from './types.js';

/** How a member settles an event it was given: done, try again later, put aside, or drop. */
export type SettleAction = 'ack' | 'retry' | 'park' | 'skip';

/** A member's ownership of one pending event, from `grantedAt` until `until` (wall-clock ms). */
export interface Claim {
  /** Unique within the group (incarnation): settles must name it, so a stale owner's settle is refused. */
  token: number;
  member: string;
  /** The member's lease fencing token when it claimed. */
  fencing: number;
  grantedAt: number;
  until: number;
}

/** An event of the group that is not settled yet. */
export interface PendingEvent {
  stream: string;
  revision: number;
  /** Deliveries so far. */
  attempts: number;
  claim?: Claim;
}

export interface ParkedEvent {
  position: Position;
  stream: string;
  revision: number;
  attempts: number;
  reason: string;
  parkedAt: number;
}

/** What a group delivers: every event of `stream` (or `$all`) that passes `filter`, after `after`. */
export interface GroupSettings {
  /** A stream name, or `$all`. */
  stream: string;
  filter?: { streamPrefix?: string; eventType?: string; regex?: { source: string; flags: string } };
  /** Events after this position (exclusive); START: from the beginning. */
  after: Position;
  /** Deliveries after the first before an event is parked (default 10). */
  maxRetries: number;
  /** How long a member owns an event it was given (default 30 s); after that it is given to another. */
  ackTimeoutMs: number;
  /** Most unsettled events the group tracks at once (default 1000): members stop reading ahead there. */
  maxPending: number;
}

/**
 * The group's one conditional-PUT object (`groups/<name>/state`): its settings, how far it has
 * read the log, every unsettled event with its claim, the parked events and the members' fencing
 * tokens. Every change is a compare-and-swap on its ETag that increments `seq`.
 */
export interface GroupState {
  format: 1;
  name: string;
  /** Random per creation: a member of a deleted and re-created group is fenced. */
  incarnation: string;
  /** Fresh per write (resolves unknown outcomes; ETags never repeat). */
  writeId: string;
  seq: number;
  createdAt: number;
  settings: GroupSettings;
  /** Every event of records up to here that the group delivers is pending or settled. */
  scanned: number;
  /** Keyed by `record:index`. */
  pending: Record<string, PendingEvent>;
  parked: ParkedEvent[];
  /** The newest lease fencing token seen per member id. */
  members: Record<string, { fencing: number }>;
  nextToken: number;
  /** Counters for `info`. */
  acked: number;
  skipped: number;
}

export interface SettleOp {
  key: string;
  token: number;
  member: string;
  fencing: number;
  action: SettleAction;
  reason?: string;
}

export function pendingKey(p: Position): string {
  return `${p.record}:${p.index}`;
}

export function keyPosition(key: string): Position {
  const [record, index] = key.split(':').map(Number) as [number, number];
  return { record, index };
}

/** Pending keys in log order. */
export function pendingInOrder(state: GroupState): string[] {
  return Object.keys(state.pending).sort((a, b) => {
    const [pa, pb] = [keyPosition(a), keyPosition(b)];
    return pa.record - pb.record || pa.index - pb.index;
  });
}

/** Whether a settle op names the claim that holds its event now (the fence against stale owners). */
export function settleIsCurrent(state: GroupState, op: SettleOp, fenced = true): boolean {
  const entry = state.pending[op.key];
  if (!entry) return false;
  if (!fenced) return true;
  return entry.claim?.token === op.token && state.members[op.member]?.fencing === op.fencing;
}

/**
 * Applies settles (in place); returns which were refused: their claim is not the event's claim
 * any more (it timed out and went to another member, or the member id was taken over).
 */
export function applySettles(state: GroupState, ops: SettleOp[], now: number, fenced = true): boolean[] {
  return ops.map((op) => {
    if (!settleIsCurrent(state, op, fenced)) return false;
    const entry = state.pending[op.key] as PendingEvent;
    const action = op.action === 'retry' && entry.attempts > state.settings.maxRetries ? 'park' : op.action;
    if (action === 'ack' || action === 'skip') {
      delete state.pending[op.key];
      if (action === 'ack') state.acked++;
      else state.skipped++;
    } else if (action === 'retry') {
      delete entry.claim;
    } else {
      delete state.pending[op.key];
      const reason = op.action === 'retry' ? `retried ${entry.attempts} times: ${op.reason ?? ''}` : op.reason;
      state.parked.push({
        position: keyPosition(op.key),
        stream: entry.stream,
        revision: entry.revision,
        attempts: entry.attempts,
        reason: reason ?? '',
        parkedAt: now,
      });
    }
    return true;
  });
}

/** Whether another member may take `entry` now: unclaimed, its claim timed out (past the skew margin), or its member id fenced. */
export function claimable(state: GroupState, entry: PendingEvent, now: number, skewMs: number): boolean {
  const c = entry.claim;
  if (!c) return true;
  if (now >= c.until + skewMs) return true;
  return (state.members[c.member]?.fencing ?? 0) > c.fencing;
}

/**
 * Gives `member` up to `limit` claimable pending events, oldest first (in place). An event
 * delivered more than `maxRetries` + 1 times is parked instead. Returns the claimed keys, and
 * whether anything changed (a park changes the state without a claim).
 */
export function claimEvents(
  state: GroupState,
  member: string,
  fencing: number,
  now: number,
  limit: number,
  skewMs: number,
): { claims: { key: string; entry: PendingEvent }[]; changed: boolean } {
  const out: { key: string; entry: PendingEvent }[] = [];
  let parked = false;
  for (const key of pendingInOrder(state)) {
    if (out.length >= limit) break;
    const entry = state.pending[key] as PendingEvent;
    if (!claimable(state, entry, now, skewMs)) continue;
    if (entry.attempts > state.settings.maxRetries) {
      delete state.pending[key];
      state.parked.push({
        position: keyPosition(key),
        stream: entry.stream,
        revision: entry.revision,
        attempts: entry.attempts,
        reason: `not acknowledged after ${entry.attempts} deliveries`,
        parkedAt: now,
      });
      parked = true;
      continue;
    }
    entry.attempts++;
    entry.claim = {
      token: state.nextToken++,
      member,
      fencing,
      grantedAt: now,
      until: now + state.settings.ackTimeoutMs,
    };
    out.push({ key, entry });
  }
  return { claims: out, changed: parked || out.length > 0 };
}

export function encodeGroupState(state: GroupState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state));
}

export function decodeGroupState(name: string, bytes: Uint8Array): GroupState {
  let state: Partial<GroupState>;
  try {
    state = JSON.parse(new TextDecoder().decode(bytes)) as Partial<GroupState>;
  } catch (cause) {
    throw new EventsError('Corrupt', `consumer group ${JSON.stringify(name)}: its state is not JSON`, { cause });
  }
  if (
    state.format !== 1 ||
    typeof state.incarnation !== 'string' ||
    !Number.isSafeInteger(state.seq) ||
    !Number.isSafeInteger(state.scanned) ||
    typeof state.pending !== 'object' ||
    !Array.isArray(state.parked) ||
    typeof state.settings !== 'object'
  ) {
    throw new EventsError('Corrupt', `consumer group ${JSON.stringify(name)}: its state is not a group state`);
  }
  return state as GroupState;
}
