import { listAll, metered, type ObjectStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAll } from './fixtures/test-helpers.js';
import { isEventsError, WrongExpectedVersionError } from './errors.js';
import { EventStore } from './event-store.js';
import type { RecordedEvent } from './types.js';

const ev = (type: string, data: unknown = {}, id?: string) => (id ? { id, type, data } : { type, data });
const summary = (events: RecordedEvent[]) => events.map((e) => `${e.stream}@${e.revision}:${e.type}`);

describe.each(testBackendNames())('EventStore on %s', (backendName) => {
  let backend: TestBackend;
  let store: ObjectStore;
  let events: EventStore;

  beforeAll(async () => {
    backend = await openTestBackend(backendName);
  });
  afterAll(async () => {
    await backend.close();
  });

  async function fresh(options = {}): Promise<EventStore> {
    store = await backend.newStore();
    events = await EventStore.open(store, { prefix: 'ev', ...options });
    return events;
  }

  it('appends with expected revisions and reads streams both ways', async () => {
    await fresh();
    const a = await events.append('order-1', [ev('Created', { n: 1 }), ev('Paid', { n: 2 })], {
      expectedRevision: 'no_stream',
    });
    expect(a.nextRevision).toBe(1);
    const b = await events.append('order-1', [ev('Shipped')], { expectedRevision: 1 });
    expect(b.nextRevision).toBe(2);
    expect(b.position.record).toBeGreaterThan(a.position.record);
    await events.append('order-2', [ev('Created')], { expectedRevision: 'any' });
    await events.append('order-1', [ev('Closed')], { expectedRevision: 'stream_exists' });

    const forwards = await collectAll(events.readStream('order-1'));
    expect(summary(forwards)).toEqual(['order-1@0:Created', 'order-1@1:Paid', 'order-1@2:Shipped', 'order-1@3:Closed']);
    expect(forwards[0]?.data).toEqual({ n: 1 });
    const backwards = await collectAll(events.readStream('order-1', { direction: 'backwards', limit: 3 }));
    expect(summary(backwards)).toEqual(['order-1@3:Closed', 'order-1@2:Shipped', 'order-1@1:Paid']);
    expect(summary(await collectAll(events.readStream('order-1', { from: 2 })))).toEqual([
      'order-1@2:Shipped',
      'order-1@3:Closed',
    ]);
    expect(summary(await collectAll(events.readStream('order-1', { from: 1, direction: 'backwards' })))).toEqual([
      'order-1@1:Paid',
      'order-1@0:Created',
    ]);
    expect(await collectAll(events.readStream('nope'))).toEqual([]);
    expect(await events.streams()).toEqual([
      { stream: 'order-1', revision: 3 },
      { stream: 'order-2', revision: 0 },
    ]);
    await events.close();
  });

  it('refuses wrong expected revisions with the actual one, writing nothing', async () => {
    await fresh();
    await events.append('s', [ev('A'), ev('B')]);
    const attempts: [unknown, number][] = [
      ['no_stream', 1],
      [0, 1],
      [5, 1],
    ];
    for (const [expectedRevision, actual] of attempts) {
      const error = await events
        .append('s', [ev('X')], { expectedRevision: expectedRevision as number })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect((error as WrongExpectedVersionError).actualRevision).toBe(actual);
      expect((error as WrongExpectedVersionError).code).toBe('WrongExpectedVersion');
    }
    const missing = await events.append('t', [ev('X')], { expectedRevision: 'stream_exists' }).catch((e: unknown) => e);
    expect((missing as WrongExpectedVersionError).actualRevision).toBe(-1);
    expect(summary(await collectAll(events.readAll()))).toEqual(['s@0:A', 's@1:B']);
    await events.close();
  });

  it('makes retries with the same event ids idempotent, and refuses partial overlaps', async () => {
    await fresh();
    const batch = [ev('A', 1, 'id-1'), ev('B', 2, 'id-2')];
    const first = await events.append('s', batch, { expectedRevision: 'no_stream' });
    await events.append('s', [ev('C', 3, 'id-3')]);
    // The retry's expected revision no longer holds, but the ids say it already happened.
    const again = await events.append('s', batch, { expectedRevision: 'no_stream' });
    expect(again).toEqual(first);
    const other = await EventStore.open(store, { prefix: 'ev' });
    expect(await other.append('s', batch)).toEqual(first);
    const partial = await other.append('s', [ev('A', 1, 'id-1'), ev('D', 4, 'id-4')]).catch((e: unknown) => e);
    expect(isEventsError(partial, 'IdConflict')).toBe(true);
    const elsewhere = await other.append('t', [ev('A', 1, 'id-1')]).catch((e: unknown) => e);
    expect(isEventsError(elsewhere, 'IdConflict')).toBe(true);
    expect(summary(await collectAll(other.readAll()))).toEqual(['s@0:A', 's@1:B', 's@2:C']);
    await other.close();
    await events.close();
  });

  it('appends to several streams atomically, or not at all', async () => {
    await fresh();
    await events.append('b', [ev('B0')]);
    const result = await events.appendMulti([
      { stream: 'a', events: [ev('A0'), ev('A1')], expectedRevision: 'no_stream' },
      { stream: 'b', events: [ev('B1')], expectedRevision: 0 },
    ]);
    expect(result.streams).toEqual([
      { stream: 'a', nextRevision: 1 },
      { stream: 'b', nextRevision: 1 },
    ]);
    const refused = await events
      .appendMulti([
        { stream: 'a', events: [ev('A2')], expectedRevision: 1 },
        { stream: 'b', events: [ev('B2')], expectedRevision: 0 },
      ])
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WrongExpectedVersionError);
    expect((refused as WrongExpectedVersionError).stream).toBe('b');
    const all = await collectAll(events.readAll());
    expect(summary(all)).toEqual(['b@0:B0', 'a@0:A0', 'a@1:A1', 'b@1:B1']);
    // One record holds the whole multi-stream append.
    expect(new Set(all.slice(1).map((e) => e.position.record)).size).toBe(1);
    await events.close();
  });

  it('shares one PUT among concurrent appends (group commit) and keeps each stream in order', async () => {
    const m = metered(await backend.newStore());
    events = await EventStore.open(m, { prefix: 'g' });
    await events.append('warm', [ev('W')]);
    m.meter.reset();
    const n = 40;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => events.append(`s-${i % 4}`, [ev('E', { i })], { expectedRevision: 'any' })),
    );
    expect(m.meter.snapshot().requests.put).toBeLessThan(n / 2);
    const all = await collectAll(events.readAll());
    expect(all).toHaveLength(n + 1);
    for (let s = 0; s < 4; s++) {
      const stream = all.filter((e) => e.stream === `s-${s}`);
      expect(stream.map((e) => e.revision)).toEqual(stream.map((_, i) => i));
    }
    // Every caller was told the position and revision its event really has.
    for (const [i, r] of results.entries()) {
      const found = all.find((e) => (e.data as { i?: number }).i === i);
      expect(found?.position).toEqual(r.position);
      expect(found?.revision).toBe(r.nextRevision);
    }
    await events.close();
  });

  it('stores bytes and JSON, and refuses bad input with clear errors, writing nothing', async () => {
    await fresh({ maxEventBytes: 1000 });
    const bad: [string, () => Promise<unknown>][] = [
      ['InvalidStreamName', () => events.append('', [ev('A')])],
      ['InvalidStreamName', () => events.append('$all', [ev('A')])],
      ['InvalidStreamName', () => events.append('a\nb', [ev('A')])],
      ['InvalidArgument', () => events.append('s', [])],
      ['InvalidEvent', () => events.append('s', [{ type: '' }])],
      [
        'InvalidEvent',
        () => events.append('s', [{ type: 'T', data: new TextEncoder().encode('{not json'), contentType: 'json' }]),
      ],
      ['InvalidEvent', () => events.append('s', [{ type: 'T', data: { n: 10n } }])],
      ['InvalidEvent', () => events.append('s', [{ type: 'T', data: 'x', contentType: 'bytes' }])],
      ['InvalidEvent', () => events.append('s', [{ type: 'T', metadata: [] as unknown as Record<string, unknown> }])],
      ['InvalidEvent', () => events.append('s', [ev('A', 1, 'same'), ev('B', 2, 'same')])],
      ['EventTooLarge', () => events.append('s', [{ type: 'T', data: 'x'.repeat(2000) }])],
      ['InvalidArgument', () => events.append('s', [ev('A')], { expectedRevision: -1 })],
    ];
    for (const [code, call] of bad) {
      const error = await call().catch((e: unknown) => e);
      expect(isEventsError(error) ? error.code : error).toBe(code);
    }
    expect(await collectAll(listAll(store, { prefix: 'ev/' }))).toEqual([]);
    const bytes = new Uint8Array([0, 1, 2, 255]);
    await events.append('bin', [{ type: 'Blob', data: bytes, metadata: { by: 'test' } }]);
    const [read] = await collectAll(events.readStream('bin'));
    expect(read?.contentType).toBe('bytes');
    expect(read?.data).toEqual(bytes);
    expect(read?.metadata).toEqual({ by: 'test' });
    await events.close();
  });

  it('filters $all by stream prefix, event type and regex, forwards and backwards', async () => {
    await fresh();
    await events.append('user-1', [ev('Registered'), ev('Renamed')]);
    await events.append('order-1', [ev('Created')]);
    await events.append('user-2', [ev('Registered')]);
    expect(summary(await collectAll(events.readAll({ filter: { streamPrefix: 'user-' } })))).toEqual([
      'user-1@0:Registered',
      'user-1@1:Renamed',
      'user-2@0:Registered',
    ]);
    expect(
      summary(await collectAll(events.readAll({ filter: { eventType: 'Registered' }, direction: 'backwards' }))),
    ).toEqual(['user-2@0:Registered', 'user-1@0:Registered']);
    expect(summary(await collectAll(events.readAll({ filter: { regex: /^order-/ } })))).toEqual(['order-1@0:Created']);
    const all = await collectAll(events.readAll());
    const from = all[2]?.position;
    expect(summary(await collectAll(events.readAll({ from, limit: 1 })))).toEqual(['order-1@0:Created']);
    expect(summary(await collectAll(events.readAll({ from, direction: 'backwards' })))).toEqual([
      'order-1@0:Created',
      'user-1@1:Renamed',
      'user-1@0:Registered',
    ]);
    expect(await events.headPosition()).toEqual(all.at(-1)?.position);
    await events.close();
  });

  it('lets a cold reader of one stream read its index from a checkpoint instead of the whole log', async () => {
    await fresh({ checkpointEvery: 20 });
    for (let i = 0; i < 60; i++) await events.append(`s-${i % 10}`, [ev('E', { i })]);
    await events.close();
    const m = metered(store);
    const cold = await EventStore.open(m, { prefix: 'ev' });
    const read = await collectAll(cold.readStream('s-3'));
    expect(read.map((e) => (e.data as { i: number }).i)).toEqual([3, 13, 23, 33, 43, 53]);
    // Checkpoint 60: hint, LIST, manifest, one shard, the six records, one LIST after it.
    expect(m.meter.snapshot().requests.get).toBeLessThan(15);
    expect(await cold.streams()).toHaveLength(10);
    await cold.close();
  });
});
