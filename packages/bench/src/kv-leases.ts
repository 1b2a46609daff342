// The lease checker at scale (issue 11): ≥ 10,000 acquisitions through KvStore.acquire/renew/
// release under injected faults, checked for overlapping holders and fencing tokens going back.
// Part 1 runs on virtual time in one process (fast, replayable by seed); part 2 runs real
// processes (lease-worker.child.ts) on one file store with a sweeper. The baseline is the same
// part-1 workload over a store that ignores conditional PUTs: the checker must find violations.
// Run: npm run bench -- kv-leases   (KV_LEASES_TARGET=10000, KV_LEASES_PROCESSES=3, KV_LEASES_ROUNDS=200)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '@bucketdb/kv';
import {
  chaos,
  checkLeaseHistory,
  heldEvent,
  IgnoresConditionsStore,
  type LeaseEvent,
  type LeaseGrant,
  MemoryStore,
  type ObjectStore,
  seededRandom,
  VirtualClock,
} from '@bucketdb/store';
import { collect, spawnTs } from '@bucketdb/testkit';
import { formatTable, writeReport } from './harness.js';

const TARGET = Number(process.env.KV_LEASES_TARGET ?? 10_000);
const PROCESSES = Number(process.env.KV_LEASES_PROCESSES ?? 3);
const ROUNDS = Number(process.env.KV_LEASES_ROUNDS ?? 200);
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

async function processRun() {
  const dir = await mkdtemp(join(tmpdir(), 'kv-leases-'));
  const url = `file://${dir}`;
  try {
    await using sweeper = await open(url);
    let running = true;
    const sweeping = (async () => {
      while (running) {
        await sweeper.sweep({ graceSeconds: 0 }).catch(coded);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const started = performance.now();
    const worker = new URL('../../kv/src/lease-worker.child.ts', import.meta.url);
    const children = await Promise.all(
      Array.from({ length: PROCESSES }, (_, i) =>
        collect(spawnTs(worker, [url, 'lease', String(i + 1), String(ROUNDS)])),
      ),
    );
    running = false;
    await sweeping;
    const events: LeaseEvent[] = [];
    let acquisitions = 0;
    for (const child of children) {
      if (child.code !== 0) throw new Error(`lease worker failed: ${child.stderr}`);
      for (const line of child.stdout.trim().split('\n').filter(Boolean)) events.push(JSON.parse(line) as LeaseEvent);
      acquisitions += (JSON.parse(child.stderr.trim().split('\n').at(-1) as string) as { acquisitions: number })
        .acquisitions;
    }
    return { acquisitions, violations: checkLeaseHistory(events), seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const correct = await virtualRun(new MemoryStore(), 11, TARGET);
console.log(`virtual time: ${correct.acquisitions} acquisitions, ${correct.violations.length} violations`);
const broken = await virtualRun(new IgnoresConditionsStore(new MemoryStore()), 11, Math.min(TARGET, 2000));
console.log(`broken baseline: ${broken.acquisitions} acquisitions, ${broken.violations.length} violations`);
const processes = await processRun();
console.log(
  `${PROCESSES} processes: ${processes.acquisitions} acquisitions, ${processes.violations.length} violations`,
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
  {
    run: `KvStore leases, ${PROCESSES} processes on one file store, real time, chaos (3%/3%/20% delay) + a sweeper`,
    workers: PROCESSES,
    acquisitions: processes.acquisitions,
    'faults injected': 'per process',
    'violations found': processes.violations.length,
    'wall s': processes.seconds.toFixed(1),
  },
];
const body = `Run: \`npm run bench -- kv-leases\` (KV_LEASES_TARGET=${TARGET}, KV_LEASES_PROCESSES=${PROCESSES}, KV_LEASES_ROUNDS=${ROUNDS}).

Each holder records when an acquire or renew returned and the validity it was granted, and when it
stopped to release; \`checkLeaseHistory\` (@bucketdb/store) then looks for two grants holding at the
same instant and for fencing tokens that do not increase. The baseline is the checker's own test:
over a store that drops If-Match/If-None-Match it must report violations.

${formatTable(rows)}

Violations are the result: 0 for the lease, more than 0 for the broken baseline
(${broken.violations.length} found, ratio of violations per acquisition ${(broken.violations.length / Math.max(1, broken.acquisitions)).toFixed(2)}).
`;
const path = await writeReport('kv-leases', 'KV leases: the lease checker at 10,000+ acquisitions', body);
console.log(`wrote ${path}`);
if (correct.violations.length > 0 || processes.violations.length > 0) {
  console.error(correct.violations.slice(0, 5).join('\n'));
  process.exit(1);
}
