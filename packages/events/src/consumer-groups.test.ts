import {
  chaos,
  isStoreError,
  MemoryStore,
  retry,
  type ObjectStore,
  type Random,
  seededRandom,
  VirtualClock,
} from '@bucketdb/store';
import { afterEach, describe, expect, it } from 'vitest';
import { isEventsError } from './errors.js';
import { EventStore } from './event-store.js';
import { checkGroupRun, type SettleRecord } from './fixtures/group-checker.js';
import { StateRecorder } from './fixtures/state-recorder.js';
import type { GroupEvent, GroupSubscription } from './group-subscription.js';
import { brokenForTests } from './test-hooks.js';

afterEach(() => {
  brokenForTests.unfencedSettles = false;
});

const iterators = new WeakMap<GroupSubscription, AsyncIterator<GroupEvent>>();

/** Takes `n` events from a member without settling them (the member keeps running). */
async function take(member: GroupSubscription, n: number): Promise<GroupEvent[]> {
  let it = iterators.get(member);
  if (!it) {
    it = member[Symbol.asyncIterator]();
    iterators.set(member, it);
  }
  const out: GroupEvent[] = [];
  while (out.length < n) {
    const next = await it.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

async function openVirtual(): Promise<{ events: EventStore; clock: VirtualClock }> {
  const clock = new VirtualClock();
  const events = await EventStore.open(new MemoryStore('groups'), {
    prefix: 'ev',
    clock,
    wallClock: () => clock.now(),
  });
  return { events, clock };
}

describe('consumer groups', () => {
  it('shares a group between members, redelivers retries, parks after max retries, and replays parked events', async () => {
    const { events } = await openVirtual();
    for (let i = 0; i < 6; i++) await events.append(`order-${i % 2}`, [{ type: 'Placed', data: { i } }]);
    await events.append('other', [{ type: 'Noise', data: {} }]);
    await events.createGroup('g', { filter: { streamPrefix: 'order-' }, maxRetries: 1, ackTimeoutMs: 60_000 });
    // The same settings again is a retried create; other settings are refused.
    await events.createGroup('g', { filter: { streamPrefix: 'order-' }, maxRetries: 1, ackTimeoutMs: 60_000 });
    await expect(events.createGroup('g', { maxRetries: 3 })).rejects.toMatchObject({ code: 'GroupExists' });
    expect(await events.listGroups()).toEqual(['g']);

    const a = events.subscribeToGroup('g', { memberId: 'a', bufferSize: 1 });
    const b = events.subscribeToGroup('g', { memberId: 'b', bufferSize: 1 });
    const first = await take(a, 2);
    const second = await take(b, 2);
    // Two members never get the same event while both own theirs.
    const positions = [...first, ...second].map((e) => e.event.position.record);
    expect(new Set(positions).size).toBe(4);
    await Promise.all([...first, ...second].map((e) => e.ack()));
    const [retry] = await take(a, 1);
    await retry?.nack('retry', 'try again');
    const [again] = await take(a, 1);
    expect(again?.event.id).toBe(retry?.event.id);
    expect(again?.attempt).toBe(2);
    // A second retry goes past maxRetries = 1: parked.
    await again?.nack('retry', 'still failing');
    const [last] = await take(b, 1);
    await last?.nack('park', 'poison');
    let info = await events.groupInfo('g');
    expect(info.pending).toBe(0);
    expect(info.acked).toBe(4);
    expect(info.parked.map((p) => p.reason)).toEqual(['retried 2 times: still failing', 'poison']);
    expect(info.members.map((m) => m.member)).toEqual(['a', 'b']);

    expect(await events.replayParked('g')).toBe(2);
    const replayed = await take(b, 2);
    expect(replayed.map((e) => e.event.id).sort()).toEqual([again?.event.id, last?.event.id].sort());
    await Promise.all(replayed.map((e) => e.ack()));
    info = await events.groupInfo('g');
    expect({ pending: info.pending, parked: info.parked.length, acked: info.acked }).toEqual({
      pending: 0,
      parked: 0,
      acked: 6,
    });
    await a.close();
    await b.close();
    expect(await events.deleteGroup('g')).toBe(true);
    expect(await events.listGroups()).toEqual([]);
    await expect(events.groupInfo('g')).rejects.toMatchObject({ code: 'GroupNotFound' });
    await events.close();
  });

  it('refuses a stale owner’s ack once its ack timeout passed and the event went to another member', async () => {
    const { events, clock } = await openVirtual();
    await events.append('s', [{ type: 'T', data: 1 }]);
    await events.createGroup('g', { ackTimeoutMs: 1000 });
    const a = events.subscribeToGroup('g', { memberId: 'a', maxClockSkewMs: 100 });
    const [held] = await take(a, 1);
    await clock.sleep(1200);
    const b = events.subscribeToGroup('g', { memberId: 'b', maxClockSkewMs: 100 });
    const [taken] = await take(b, 1);
    expect(taken?.event.id).toBe(held?.event.id);
    expect(taken?.attempt).toBe(2);
    await expect(held?.ack()).rejects.toMatchObject({ code: 'Fenced' });
    await taken?.ack();
    expect((await events.groupInfo('g')).acked).toBe(1);
    await events.close();
  });

  it('lets one live subscriber hold a member id; a new one takes over once the lease is released', async () => {
    const { events } = await openVirtual();
    await events.append('s', [{ type: 'T', data: 1 }]);
    await events.createGroup('g');
    const a = events.subscribeToGroup('g', { memberId: 'm' });
    const [e] = await take(a, 1);
    const twin = events.subscribeToGroup('g', { memberId: 'm' });
    await expect(take(twin, 1)).rejects.toMatchObject({ code: 'MemberActive' });
    await a.close();
    // The new subscriber of the same id has a newer fencing token: the old claim is its at once.
    const again = events.subscribeToGroup('g', { memberId: 'm' });
    const [redelivered] = await take(again, 1);
    expect(redelivered?.event.id).toBe(e?.event.id);
    await expect(e?.ack()).rejects.toMatchObject({ code: 'Fenced' });
    await redelivered?.ack();
    await events.close();
  });

  it('rejects bad names and options before writing anything', async () => {
    const { events } = await openVirtual();
    await expect(events.createGroup('bad/name')).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(events.createGroup('g', { maxRetries: -1 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(events.createGroup('g', { stream: '$nope' })).rejects.toMatchObject({ code: 'InvalidStreamName' });
    expect(() => events.subscribeToGroup('g', { memberId: '' })).toThrow(/member id/);
    await expect(take(events.subscribeToGroup('g', { memberId: 'x' }), 1)).rejects.toMatchObject({
      code: 'GroupNotFound',
    });
    expect(await events.listGroups()).toEqual([]);
    await events.close();
  });
});

/** The steps one member takes with an event it was given. */
type Choice = 'ack' | 'retry' | 'park' | 'skip' | 'stall' | 'crash';

function choose(r: Random): Choice {
  const x = r.next();
  if (x < 0.6) return 'ack';
  if (x < 0.7) return 'retry';
  if (x < 0.74) return 'park';
  if (x < 0.78) return 'skip';
  if (x < 0.9) return 'stall';
  return 'crash';
}

const ACK_TIMEOUT = 2000;
const SKEW = 100;

/**
 * One seeded run on virtual time: a writer appends while three member ids (each restarted after
 * crashes, on its own EventStore, as if in its own process) consume one group through a faulty
 * store, acking, nacking, stalling past their ack timeout, or crashing without a word. Then the
 * parked events are replayed and acked. Returns the checker's violations.
 */
export async function runGroupChaos(seed: number): Promise<string[]> {
  const clock = new VirtualClock();
  const recorder = new StateRecorder(new MemoryStore(`groups-${seed}`), (k) => k.endsWith('/state'));
  const faulty: ObjectStore = chaos(recorder, {
    seed,
    ops: { put: { before: 0.05, after: 0.05, reorder: 0.2 }, get: { before: 0.03, reorder: 0.2 } },
  });
  const rng = seededRandom(seed);
  const open = (label: string) =>
    EventStore.open(faulty, { prefix: 'ev', clock, wallClock: () => clock.now(), random: rng.fork(label).next });
  const writer = await open('writer');
  await writer.createGroup('g', { filter: { streamPrefix: 's' }, maxRetries: 2, ackTimeoutMs: ACK_TIMEOUT });
  const settles: SettleRecord[] = [];
  const settle = (member: string, e: GroupEvent, action: SettleRecord['action'], call: Promise<void>) =>
    call.then(
      () =>
        settles.push({
          member,
          key: `${e.event.position.record}:${e.event.position.index}`,
          token: e.token,
          action,
          outcome: 'accepted',
        }),
      (error: unknown) =>
        settles.push({
          member,
          key: `${e.event.position.record}:${e.event.position.index}`,
          token: e.token,
          action,
          outcome: isEventsError(error, 'Fenced') ? 'fenced' : 'unknown',
        }),
    );
  let stop = false;
  const appendOnce = async (stream: string, id: string) => {
    for (;;) {
      try {
        return await writer.append(stream, [{ id, type: 'T', data: { id } }]);
      } catch (error) {
        if (!(isStoreError(error) || isEventsError(error, 'Contention'))) throw error;
      }
    }
  };
  const writing = (async () => {
    const r = rng.fork('appends');
    for (let i = 0; i < 30; i++) {
      await appendOnce(r.next() < 0.85 ? `s-${r.int(3)}` : 'other', `e${i}`);
      await clock.sleep(r.int(40));
    }
  })();

  const runMember = async (memberId: string) => {
    const r = rng.fork(memberId);
    const events = await open(memberId);
    const pending: Promise<unknown>[] = [];
    while (!stop) {
      const member = events.subscribeToGroup('g', {
        memberId,
        bufferSize: 1 + r.int(3),
        leaseTtlMs: 1500,
        maxClockSkewMs: SKEW,
        pollMinMs: 5,
        pollMaxMs: 50,
      });
      let crashed = false;
      try {
        for await (const e of member) {
          const choice = choose(r);
          if (choice === 'crash') {
            member.abandon();
            crashed = true;
            break;
          }
          if (choice === 'stall') {
            // Hold the event past its ack timeout, then ack: refused if it went to another member.
            pending.push(clock.sleep(ACK_TIMEOUT + SKEW + r.int(500)).then(() => settle(memberId, e, 'ack', e.ack())));
          } else {
            const action = choice;
            pending.push(settle(memberId, e, action, action === 'ack' ? e.ack() : e.nack(action, `chose ${action}`)));
          }
          if (stop) break;
        }
      } catch (error) {
        // A store fault that outlasted the retries, a busy member id (its crashed subscriber's lease
        // has not expired yet), or a lost lease: this subscriber is done, start another.
        if (!(isStoreError(error) || isEventsError(error, 'MemberActive') || isEventsError(error, 'Fenced')))
          throw error;
      }
      if (!crashed) await member.close().catch(() => {});
      await clock.sleep(200 + r.int(300));
    }
    await Promise.all(pending);
    await events.close();
  };
  const members = ['m1', 'm2', 'm3'].map((m) => runMember(m));
  await writing;
  const tail = (await retry(() => writer.headPosition(), { maxAttempts: 50 })).record;
  // Until the group has read the whole log and nothing is pending, then replay parked ones once.
  let replayed = false;
  for (;;) {
    await clock.sleep(500);
    const info = await writer.groupInfo('g').catch(() => undefined);
    // Virtual time: a run that has not settled after this long is stuck, not slow.
    if (clock.now() > 600_000) throw new Error(`seed ${seed}: the group did not settle: ${JSON.stringify(info)}`);
    if (!info || info.scannedRecord < tail || info.pending > 0) continue;
    if (info.parked.length > 0 && !replayed) {
      await writer.replayParked('g').catch(() => {});
      replayed = true;
      continue;
    }
    if (info.parked.length === 0 || replayed) break;
  }
  stop = true;
  await Promise.all(members);
  // Parked again after the replay (the run parks some on purpose): replay and ack them all.
  const expectedKeys = await retry(
    async () => {
      const keys: string[] = [];
      for await (const e of writer.readAll()) {
        if (e.stream.startsWith('s')) keys.push(`${e.position.record}:${e.position.index}`);
      }
      return keys;
    },
    { maxAttempts: 50 },
  );
  for (let lap = 0; lap < 50; lap++) {
    const info = await writer.groupInfo('g').catch(() => undefined);
    if (!info) continue;
    if (info.parked.length === 0 && info.pending === 0) break;
    await writer.replayParked('g').catch(() => {});
    const closer = writer.subscribeToGroup('g', { memberId: 'closer', maxClockSkewMs: SKEW, pollMaxMs: 50 });
    try {
      const got = await take(closer, Math.min(info.parked.length + info.pending, 1));
      for (const e of got) await settle('closer', e, 'ack', e.ack());
    } catch (error) {
      if (!(isStoreError(error) || isEventsError(error))) throw error;
    }
    await closer.close().catch(() => {});
  }
  await writer.close();
  return checkGroupRun({ landed: recorder.landed, settles, expected: expectedKeys, skewMs: SKEW });
}

describe('consumer group checker', () => {
  it('finds no violation in seeded runs with faults, crashes, stalls and lease expiries', async () => {
    for (const seed of [1, 2, 3])
      expect({ seed, violations: await runGroupChaos(seed) }).toEqual({ seed, violations: [] });
  }, 120_000);

  it('catches a build that accepts a stale owner’s settle', async () => {
    brokenForTests.unfencedSettles = true;
    const found: string[] = [];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      found.push(...(await runGroupChaos(seed)));
      if (found.length > 0) break;
    }
    if (process.env.DEBUG_GROUPS) console.log(found);
    expect(found.join('\n')).toMatch(/accepted, but no write settled that claim|ended with no settle of it/);
  }, 120_000);
});
