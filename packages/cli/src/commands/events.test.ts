import { EventStore } from '@bucketdb/events';
import { type TempDir, tempDir } from '@bucketdb/testkit';
import { runCli } from '../fixtures/run-cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Each case runs the real `bucketdb` in child processes against a FileStore directory; a process
// start takes seconds on a loaded machine, hence the long timeouts.
describe.concurrent('bucketdb events', () => {
  let dir: TempDir;
  let n = 0;
  beforeAll(async () => {
    dir = await tempDir('bucketdb-events-cli');
  });
  afterAll(async () => {
    await dir.remove();
  });
  const freshStore = () => `file://${dir.path}/${n++}`;
  const json = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('appends, reads, filters, subscribes and lists streams as JSON lines', async () => {
    const url = freshStore();
    const first = await runCli([
      'events',
      'append',
      url,
      'order-1',
      '{"type":"Created","data":{"total":5},"id":"e-1"}',
      '{"type":"Paid","data":5}',
      '--expected-revision',
      'no_stream',
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(json(first.stdout)).toEqual([{ stream: 'order-1', nextRevision: 1, position: '1:1' }]);
    const second = await runCli(['events', 'append', url, 'order-2', '-'], { stdin: '{"type":"Created","data":{}}\n' });
    expect(second.code, second.stderr).toBe(0);

    const [read, backwards, typed, streams, subscribed] = await Promise.all([
      runCli(['events', 'read', url, 'order-1']),
      runCli(['events', 'read', url, 'order-1', '--backwards', '--limit', '1']),
      runCli(['events', 'read', url, '$all', '--type', 'Created']),
      runCli(['events', 'streams', url]),
      runCli(['events', 'subscribe', url, '$all', '--from', '1:0', '--count', '2']),
    ]);
    for (const r of [read, backwards, typed, streams, subscribed]) expect(r.code, r.stderr).toBe(0);
    expect(json(read.stdout).map((e) => [e.revision, e.type, e.data, e.position])).toEqual([
      [0, 'Created', { total: 5 }, '1:0'],
      [1, 'Paid', 5, '1:1'],
    ]);
    expect(json(read.stdout)[0]?.id).toBe('e-1');
    expect(json(backwards.stdout).map((e) => e.type)).toEqual(['Paid']);
    expect(json(typed.stdout).map((e) => e.stream)).toEqual(['order-1', 'order-2']);
    expect(json(streams.stdout)).toEqual([
      { stream: 'order-1', revision: 1 },
      { stream: 'order-2', revision: 0 },
    ]);
    expect(json(subscribed.stdout).map((e) => e.position)).toEqual(['1:1', '2:0']);
  }, 240_000);

  it('exits 3 on a wrong expected revision and 2 on usage errors, writing nothing', async () => {
    const url = freshStore();
    expect((await runCli(['events', 'append', url, 's', '{"type":"A"}'])).code).toBe(0);
    const [wrong, badJson, badField, badStream, missing, badRevision, help] = await Promise.all([
      runCli(['events', 'append', url, 's', '{"type":"B"}', '--expected-revision', 'no_stream']),
      runCli(['events', 'append', url, 's', '{not json']),
      runCli(['events', 'append', url, 's', '{"type":"B","colour":1}']),
      runCli(['events', 'append', url, '$bad', '{"type":"B"}']),
      runCli(['events', 'append', url]),
      runCli(['events', 'append', url, 's', '{"type":"B"}', '--expected-revision', 'soon']),
      runCli(['events', 'append', '--help']),
    ]);
    expect(wrong.code).toBe(3);
    expect(json(wrong.stdout)).toEqual([{ error: 'WrongExpectedVersion', stream: 's', actualRevision: 0 }]);
    for (const r of [badJson, badField, badStream, missing, badRevision]) {
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 2, stderr: expect.stringMatching(/\S/) });
    }
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--expected-revision/);
    const read = await runCli(['events', 'read', url, '$all']);
    expect(json(read.stdout).map((e) => e.type)).toEqual(['A']);
  }, 240_000);

  it('creates, lists, inspects, replays and deletes consumer groups, with their exit codes', async () => {
    const url = freshStore();
    expect((await runCli(['events', 'append', url, 'order-1', '{"type":"A","data":1}'])).code).toBe(0);
    const created = await runCli([
      'events',
      'groups',
      'create',
      url,
      'billing',
      '--stream-prefix',
      'order-',
      '--max-retries',
      '2',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(json(created.stdout)[0]).toMatchObject({
      name: 'billing',
      pending: 0,
      settings: { maxRetries: 2, after: '0:0' },
    });
    // A member (this process) parks the event, so there is something to replay.
    {
      await using events = await EventStore.open(url);
      const member = events.subscribeToGroup('billing', { memberId: 'w1' });
      for await (const e of member) {
        await e.nack('park', 'bad data');
        break;
      }
      await member.close();
    }
    const [list, info, other, missing, badName] = await Promise.all([
      runCli(['events', 'groups', 'list', url]),
      runCli(['events', 'groups', 'info', url, 'billing']),
      runCli(['events', 'groups', 'create', url, 'billing', '--max-retries', '7']),
      runCli(['events', 'groups', 'info', url, 'nope']),
      runCli(['events', 'groups', 'create', url, 'bad/name']),
    ]);
    expect(json(list.stdout)).toEqual([{ group: 'billing' }]);
    expect(json(info.stdout)[0]).toMatchObject({
      parked: [{ position: '1:0', reason: 'bad data' }],
      members: [{ member: 'w1' }],
    });
    expect(other.code).toBe(5);
    expect(missing.code).toBe(4);
    expect(json(missing.stdout)).toEqual([{ error: 'GroupNotFound' }]);
    expect(badName.code).toBe(2);
    const replay = await runCli(['events', 'groups', 'replay-parked', url, 'billing']);
    expect(json(replay.stdout)).toEqual([{ group: 'billing', replayed: 1 }]);
    const deleted = await runCli(['events', 'groups', 'delete', url, 'billing']);
    expect(json(deleted.stdout)).toEqual([{ group: 'billing', deleted: true }]);
    expect((await runCli(['events', 'groups', 'delete', url, 'billing'])).code).toBe(4);
  }, 240_000);

  it('gc reports and deletes what retention collected; a position below the floor exits 7', async () => {
    const url = freshStore();
    // Written, and its floor raised, two grace periods ago (the wall clock is injected).
    const grace = 60_000;
    const past = Date.now() - 2 * grace;
    const events = await EventStore.open(url, { checkpointEvery: 2, wallClock: () => past });
    await events.setStreamMetadata('s', { maxCount: 1 });
    for (let i = 0; i < 6; i++) await events.append('s', [{ type: 'T', data: i }]);
    await events.checkpoint();
    expect((await events.gc({ graceMs: grace })).raisedFloor).toBe(6);
    await events.close();

    const dry = await runCli(['events', 'gc', url, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(json(dry.stdout)[0]).toMatchObject({ dryRun: true, floor: 6, deleted: { records: 6 } });
    const gc = await runCli(['events', 'gc', url]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(json(gc.stdout)[0]).toMatchObject({ dryRun: false, floor: 6, deleted: { records: 6 } });
    const [read, stale, badGrace] = await Promise.all([
      runCli(['events', 'read', url, 's']),
      runCli(['events', 'read', url, '$all', '--from', '2:0']),
      runCli(['events', 'gc', url, '--grace', '5s']),
    ]);
    expect(json(read.stdout).map((e) => e.data)).toEqual([5]);
    expect(stale.code).toBe(7);
    expect(json(stale.stdout)).toEqual([{ error: 'Collected', floor: 6 }]);
    expect(badGrace.code).toBe(2);
  }, 240_000);
});
