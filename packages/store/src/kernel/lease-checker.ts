import type { LeaseGrant } from './lease.js';

/**
 * One event of a lease history, as a participant saw it (times in ms on one shared clock).
 * `held`: an acquire or renew returned at `from` with validity until `until`. `released`: the
 * holder stopped acting at `at` and called release.
 */
export type LeaseEvent =
  | { type: 'held'; holder: string; token: string; fencingToken: number; from: number; until: number }
  | { type: 'released'; holder: string; token: string; at: number };

/** The `held` event of a grant that `acquire` or `renew` returned at `from`. */
export function heldEvent(holder: string, grant: LeaseGrant, from: number): LeaseEvent {
  return { type: 'held', holder, token: grant.token, fencingToken: grant.fencingToken, from, until: grant.validUntil };
}

/** A stretch during which one grant (token) believed it held the lease. */
export interface LeaseHolding {
  holder: string;
  token: string;
  fencingToken: number;
  from: number;
  until: number;
}

/**
 * Checks a lease history: no two grants (different tokens) hold the lease at the same instant, and
 * fencing tokens strictly increase in the order grants begin (one token per grant). Returns the
 * violations found, empty when the history is correct. `fencing: false` checks exclusion only
 * (for locks without fencing tokens, such as a create-only put with a TTL). Used by the randomized lease checkers of
 * every package built on leases.
 */
export function checkLeaseHistory(events: readonly LeaseEvent[], options: { fencing?: boolean } = {}): string[] {
  const releasedAt = new Map<string, number>();
  for (const e of events)
    if (e.type === 'released') releasedAt.set(e.token, Math.min(e.at, releasedAt.get(e.token) ?? e.at));
  const holdings: LeaseHolding[] = [];
  for (const e of events) {
    if (e.type !== 'held') continue;
    const until = Math.min(e.until, releasedAt.get(e.token) ?? Number.POSITIVE_INFINITY);
    // A grant that returned after its own validity (a slow request) never held the lease.
    if (e.from < until)
      holdings.push({ holder: e.holder, token: e.token, fencingToken: e.fencingToken, from: e.from, until });
  }
  holdings.sort((a, b) => a.from - b.from || a.until - b.until);
  const violations: string[] = [];
  const show = (h: LeaseHolding) => `${h.holder} (token ${h.token}, fencing ${h.fencingToken}) [${h.from}, ${h.until})`;
  for (let i = 0; i < holdings.length; i++) {
    const b = holdings[i] as LeaseHolding;
    for (let j = 0; j < i; j++) {
      const a = holdings[j] as LeaseHolding;
      if (a.token !== b.token && a.until > b.from) violations.push(`overlap: ${show(a)} and ${show(b)}`);
    }
  }
  if (options.fencing === false) return violations;
  // Fencing: one token per grant, and grants in order of their first holding have increasing tokens.
  const firstByToken = new Map<string, LeaseHolding>();
  for (const h of holdings) {
    const first = firstByToken.get(h.token);
    if (first === undefined) firstByToken.set(h.token, h);
    else if (first.fencingToken !== h.fencingToken) violations.push(`fencing token changed within a grant: ${show(h)}`);
  }
  const grants = [...firstByToken.values()];
  for (let i = 1; i < grants.length; i++) {
    const [a, b] = [grants[i - 1] as LeaseHolding, grants[i] as LeaseHolding];
    if (b.fencingToken <= a.fencingToken) violations.push(`fencing token did not increase: ${show(a)} then ${show(b)}`);
  }
  return violations;
}
