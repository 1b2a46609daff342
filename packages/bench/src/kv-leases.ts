// The lease checker at scale (issue 11): ≥ 10,000 acquisitions through KvStore.acquire/renew/
// release under injected faults, checked for overlapping holders and fencing tokens going back.
// Part 1 runs on virtual time in one process (fast, replayable by seed); part 2 runs real
// processes (lease-swarm.child.ts) taking many short leases at once, on a file store and on the
// S3 server over HTTP, with a sweeper. The baseline is the same part-1 workload over a store that
// ignores conditional PUTs: the checker must find violations.
// Run: npm run bench -- kv-leases   (KV_LEASES_TARGET=10000, KV_LEASES_FILE_TARGET=10000,
// KV_LEASES_SERVER_TARGET=2000, KV_LEASES_PROCESSES=4, KV_LEASES_LOOPS=8, KV_LEASES_NAMES=64,
// KV_LEASES_SECONDS=240: a real-process run stops there and reports what it reached)
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '@bucketdb/kv';
import {
  chaos,
  checkLeaseHistory,
  FileStore,
  heldEvent,
  IgnoresConditionsStore,
  type LeaseEvent,
  type LeaseGrant,
  MemoryStore,
  type ObjectStore,
  S3Store,
  seededRandom,
  VirtualClock,
} from '@bucketdb/store';
import { startServer } from '@bucketdb/server';
import { runLeaseSwarm } from '@bucketdb/testkit';
import { formatTable, writeReport } from './harness.js';

const TARGET = Number(process.env.KV_LEASES_TARGET ?? 10_000);
const PROCESSES = Number(process.env.KV_LEASES_PROCESSES ?? 4);
/** Acquisitions by real processes on the file store, and on the S3 server (slower: every request is HTTP + SigV4). */
const FILE_TARGET = Number(process.env.KV_LEASES_FILE_TARGET ?? 10_000);
const SERVER_TARGET = Number(process.env.KV_LEASES_SERVER_TARGET ?? 2000);
const SWARM_NAMES = Number(process.env.KV_LEASES_NAMES ?? 64);
const SWARM_LOOPS = Number(process.env.KV_LEASES_LOOPS ?? 8);
/** A run that has not reached its target by then stops (and reports what it reached). */
const SWARM_SECONDS = Number(process.env.KV_LEASES_SECONDS ?? 240);
const SERVER_USER = { accessKeyId: 'kv-leases', secretAccessKey: 'kv-leases-secret', name: 'kv-leases' };
/** s3:// URLs carry no credentials: the children take the server's from the environment. */
const SERVER_ENV = {
  AWS_ACCESS_KEY_ID: SERVER_USER.accessKeyId,
  AWS_SECRET_ACCESS_KEY: SERVER_USER.secretAccessKey,
  AWS_REGION: 'us-east-1',
};
const WORKERS = 5;
const T0 = Date.UTC(2030, 0, 1);

const coded = (error: unknown) => {
  if (typeof (error as { code?: unknown }).code !== 'string') throw error;
};

async function virtualRun(inner: ObjectStore, seed: number, target: number) {
  const clock = new VirtualClock();
  const now = () => T0 + clock.now();
  const store = chaos(inner, {
    seed,
    clock,
    faults: { before: 0.05, after: 0.05, delay: 0.3, reorder: 0.1 },
    delayMs: { min: 1, max: 80 },
  });
  const kv = await open(store, { clock: now, maxClockSkewMs: 5, random: () => 0 });
  const events: LeaseEvent[] = [];
  let acquisitions = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      const random = seededRandom(`${seed}/${w}`);
      const holder = `w${w}`;
      while (acquisitions < target) {
        await clock.sleep(random.int(60));
        let grant: LeaseGrant;
        try {
          grant = await kv.acquire('lease', { ttlSeconds: (50 + random.int(100)) / 1000, holder });
        } catch (error) {
          coded(error);
          continue;
        }
        acquisitions++;
        const held = (g: LeaseGrant) => events.push(heldEvent(holder, g, now()));
        held(grant);
        for (let r = random.int(3); r > 0; r--) {
          await clock.sleep(random.int(120));
          try {
            grant = await kv.renew(grant, { ttlSeconds: (50 + random.int(100)) / 1000 });
          } catch (error) {
            coded(error);
            break;
          }
          held(grant);
        }
        if (random.next() < 0.7) {
          events.push({ type: 'released', holder, token: grant.token, at: now() });
          await kv.release(grant).catch(coded);
        }
      }
    }),
  );
  return {
    acquisitions,
    violations: checkLeaseHistory(events),
    faults: store.counts,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Real processes taking many short leases at once (lease-swarm.child.ts) against `url`, with a sweeper here. */
async function swarmRun(url: string, target: number) {
  await using sweeper = await open(url);
  const perProcess = Math.ceil(target / PROCESSES);
  const deadline = String(Date.now() + SWARM_SECONDS * 1000);
  const result = await runLeaseSwarm({
    worker: new URL('../../kv/src/lease-swarm.child.ts', import.meta.url),
    children: Array.from({ length: PROCESSES }, (_, i) => [
      url,
      'both',
      String(i + 1),
      String(perProcess),
      String(SWARM_NAMES),
      String(SWARM_LOOPS),
      deadline,
    ]),
    env: SERVER_ENV,
    withoutFencing: (name) => name.startsWith('plain/'),
    alongside: async (signal) => {
      while (!signal.aborted) {
        await sweeper.sweep({ graceSeconds: 0 }).catch(coded);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  });
  let acquisitions = 0;
  let faults = 0;
  for (const summary of result.summaries) {
    acquisitions += summary.acquisitions as number;
    const counts = summary.faults as Record<string, number>;
    faults += (counts.before ?? 0) + (counts.after ?? 0) + (counts.delay ?? 0) + (counts.reorder ?? 0);
  }
  return { ...result, acquisitions, faults };
}

async function fileSwarm(target: number) {
  const dir = await mkdtemp(join(tmpdir(), 'kv-leases-'));
  try {
    return await swarmRun(`file://${dir}`, target);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function serverSwarm(target: number) {
  const dir = await mkdtemp(join(tmpdir(), 'kv-leases-server-'));
  const backing = await FileStore.open(dir, { sync: false });
  const server = await startServer({ store: backing, port: 0, quiet: true, users: [SERVER_USER] });
  try {
    const bucket = new S3Store({
      bucket: 'leases',
      endpoint: server.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: SERVER_USER,
    });
    await bucket.createBucket();
    await bucket.close();
    Object.assign(process.env, SERVER_ENV); // for the sweeper, which opens the same URL here
    return await swarmRun(`s3://leases/swarm?endpoint=${encodeURIComponent(server.url)}`, target);
  } finally {
    await server.close();
    await backing.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const correct = await virtualRun(new MemoryStore(), 11, TARGET);
console.log(`virtual time: ${correct.acquisitions} acquisitions, ${correct.violations.length} violations`);
const broken = await virtualRun(new IgnoresConditionsStore(new MemoryStore()), 11, Math.min(TARGET, 2000));
console.log(`broken baseline: ${broken.acquisitions} acquisitions, ${broken.violations.length} violations`);
const fileProcesses = await fileSwarm(FILE_TARGET);
console.log(
  `file store, ${PROCESSES} processes: ${fileProcesses.acquisitions} acquisitions, ${fileProcesses.violations.length} violations`,
);
const serverProcesses = await serverSwarm(SERVER_TARGET);
console.log(
  `server, ${PROCESSES} processes: ${serverProcesses.acquisitions} acquisitions, ${serverProcesses.violations.length} violations`,
);

const rows = [
  {
    run: 'KvStore leases, virtual time, chaos (5% fail before, 5% fail after, 30% delay 1-80 ms, 10% reorder)',
    workers: WORKERS,
    acquisitions: correct.acquisitions,
    'faults injected': correct.faults.before + correct.faults.after + correct.faults.delay + correct.faults.reorder,
    'violations found': correct.violations.length,
    'wall s': correct.seconds.toFixed(1),
  },
  {
    run: 'baseline: the same over a store that ignores conditional PUTs (a broken lease)',
    workers: WORKERS,
    acquisitions: broken.acquisitions,
    'faults injected': broken.faults.before + broken.faults.after + broken.faults.delay + broken.faults.reorder,
    'violations found': broken.violations.length,
    'wall s': broken.seconds.toFixed(1),
  },
  ...[
    ['one file store', fileProcesses],
    ['the S3 server over HTTP (AWS SDK)', serverProcesses],
  ].map(([where, run]) => {
    const r = run as Awaited<ReturnType<typeof swarmRun>>;
    return {
      run: `real processes on ${where as string}: ${SWARM_NAMES} names (half kv.acquire leases, half put-if-absent locks), 200-500 ms TTLs, chaos (3%/3%/20% delay) + a sweeper`,
      workers: `${PROCESSES} × ${SWARM_LOOPS}`,
      acquisitions: r.acquisitions,
      'faults injected': r.faults,
      'violations found': r.violations.length,
      'wall s': r.seconds.toFixed(1),
    };
  }),
];
const body = `Run: \`npm run bench -- kv-leases\` (KV_LEASES_TARGET=${TARGET}, KV_LEASES_FILE_TARGET=${FILE_TARGET}, KV_LEASES_SERVER_TARGET=${SERVER_TARGET}, KV_LEASES_SECONDS=${SWARM_SECONDS}, KV_LEASES_PROCESSES=${PROCESSES}, KV_LEASES_LOOPS=${SWARM_LOOPS}, KV_LEASES_NAMES=${SWARM_NAMES}). Load average at the start: ${loadavg()
  .map((l) => l.toFixed(1))
  .join(', ')}.

Each holder records when an acquire or renew returned and the validity it was granted, and when it
stopped to release; \`checkLeaseHistory\` (@bucketdb/store) then looks for two grants holding at the
same instant and for fencing tokens that do not increase. The baseline is the checker's own test:
over a store that drops If-Match/If-None-Match it must report violations.

${formatTable(rows)}

A real-process run that reaches ${SWARM_SECONDS} s before its target stops and reports what it reached
(the acquisitions column); its rate follows the machine's load.

Violations are the result: 0 for the lease, more than 0 for the broken baseline
(${broken.violations.length} found, ratio of violations per acquisition ${(broken.violations.length / Math.max(1, broken.acquisitions)).toFixed(2)}).
`;
const path = await writeReport('kv-leases', 'KV leases: the lease checker at 10,000+ acquisitions', body);
console.log(`wrote ${path}`);
const allViolations = [...correct.violations, ...fileProcesses.violations, ...serverProcesses.violations];
if (allViolations.length > 0) {
  console.error(allViolations.slice(0, 5).join('\n'));
  process.exit(1);
}
