import type { ChildProcess } from 'node:child_process';
import { startServer } from '@bucketdb/server';
import { chaos, MemoryStore, retry, S3Store } from '@bucketdb/store';
import { spawnTs, TEST_BUCKET, TEST_CREDENTIALS } from '@bucketdb/testkit';
import { expect, it } from 'vitest';
import { EventStore } from './event-store.js';
import { checkGroupRun, type SettleRecord } from './fixtures/group-checker.js';
import { StateRecorder } from './fixtures/state-recorder.js';
import { childEnv } from './fixtures/test-helpers.js';

const ACK_TIMEOUT = 2000;

/**
 * Three member processes of one group on the S3-compatible server (with injected faults), each
 * killed with SIGKILL now and then and restarted with the same member id while a writer appends.
 * The server's store records every group state write that landed, for the checker.
 */
it('keeps consumer-group guarantees across member processes killed with SIGKILL', async () => {
  const recorder = new StateRecorder(new MemoryStore('group-processes'), (k) => k.endsWith('/groups/g/state'));
  const server = await startServer({
    store: chaos(recorder, { seed: 7, ops: { put: { before: 0.03, after: 0.03 }, get: { before: 0.02 } } }),
    host: '127.0.0.1',
    port: 0,
    users: [TEST_CREDENTIALS],
    quiet: true,
  });
  const bucket = new S3Store({
    bucket: TEST_BUCKET,
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
  });
  await bucket.createBucket();
  await bucket.close();
  Object.assign(process.env, childEnv);
  const url = `s3://${TEST_BUCKET}/run?endpoint=${encodeURIComponent(server.url)}`;
  const writer = await EventStore.open(url, { prefix: 'ev' });
  const lines: SettleRecord[] = [];
  const children = new Map<string, ChildProcess>();
  const start = (memberId: string, n: number) => {
    const child = spawnTs(
      new URL('./group.child.ts', import.meta.url),
      [url, memberId, String(n), String(ACK_TIMEOUT)],
      childEnv,
    );
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) if (line !== '') lines.push(JSON.parse(line) as SettleRecord);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (process.env.DEBUG_GROUPS) process.stderr.write(`${memberId}: ${chunk.toString()}`);
    });
    children.set(memberId, child);
  };
  const kill = async (memberId: string) => {
    const child = children.get(memberId);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  try {
    await retry(() => writer.createGroup('g', { ackTimeoutMs: ACK_TIMEOUT, maxRetries: 3 }), { maxAttempts: 20 });
    const members = ['m1', 'm2', 'm3'];
    members.forEach((m) => start(m, 0));
    const writing = (async () => {
      for (let i = 0; i < 20; i++) {
        await retry(() => writer.append(`s-${i % 4}`, [{ id: `e${i}`, type: 'T', data: { i } }]), { maxAttempts: 20 });
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })();
    // Kill a member once it is working (it has sent settles since it started), then restart it.
    const startedAt = new Map(members.map((m) => [m, 0]));
    const progress = (m: string) => lines.filter((l) => l.member === m).length - (startedAt.get(m) ?? 0);
    for (let kills = 1; kills <= 2; kills++) {
      let victim: string | undefined;
      for (let wait = 0; wait < 300 && !victim; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        victim = members.find((m) => progress(m) >= 3);
      }
      if (!victim) break;
      await kill(victim);
      startedAt.set(victim, lines.filter((l) => l.member === victim).length);
      start(victim, kills);
    }
    await writing;
    const tail = (await retry(() => writer.headPosition(), { maxAttempts: 20 })).record;
    // Wait for the group to read everything and settle it; replay what was parked, and again.
    for (let lap = 0; ; lap++) {
      expect(lap).toBeLessThan(600);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const info = await writer.groupInfo('g').catch(() => undefined);
      if (!info || info.scannedRecord < tail || info.pending > 0) continue;
      if (info.parked.length === 0) break;
      await writer.replayParked('g').catch(() => {});
    }
    await Promise.all(members.map(kill));
    const expected: string[] = [];
    for await (const e of writer.readAll()) expected.push(`${e.position.record}:${e.position.index}`);
    // A settle sent by a process killed before it printed the outcome may or may not have landed.
    const outcome = new Map<string, SettleRecord>();
    for (const l of lines) {
      const id = `${l.key}#${l.token}`;
      if ((l.outcome as string) === 'sent') {
        if (!outcome.has(id)) outcome.set(id, { ...l, outcome: 'unknown' });
      } else outcome.set(id, l);
    }
    const violations = checkGroupRun({ landed: recorder.landed, settles: [...outcome.values()], expected, skewMs: 50 });
    expect(violations).toEqual([]);
    expect(recorder.landed.length).toBeGreaterThan(20);
  } finally {
    await Promise.all([...children.keys()].map(kill));
    await writer.close();
    await server.close();
  }
}, 300_000);
