/**
 * One process of the multi-process history check (and of the benchmark's soak). Modes:
 *   run: two handles on the file store in `dir` (each its own FileStore, wrapped in seeded
 *        faults) run the workload; prints {history, integrity}.
 *   setup: creates the workload's tables. final: prints {final, integrity} (a read of every key).
 *   history.child.ts <dir> <origin> <seed> <workload options as JSON> [run|setup|final]
 */
import { FileStore } from '@bucketdb/store';
import { Database } from './database.js';
import {
  chaos,
  finalRead,
  integrityFailures,
  runWorkload,
  setUpWorkload,
  type WorkloadOptions,
} from './fixtures/history-workload.js';

const [dir, origin, seed, json, mode = 'run'] = process.argv.slice(2) as [string, string, string, string, string?];
const o: WorkloadOptions = { ...(JSON.parse(json) as WorkloadOptions), origin: Number(origin), seed: Number(seed) };
if (mode === 'run') {
  const handles = await Promise.all(
    [0, 1].map(async (i) => ({
      name: `p${origin}h${i}`,
      db: await Database.create(chaos(await FileStore.open(dir), `${seed}/${i}`), {}),
    })),
  );
  const history = await runWorkload(handles, o);
  const integrity = await integrityFailures(handles);
  await Promise.all(handles.map((h) => h.db.close()));
  process.stdout.write(`${JSON.stringify({ history, integrity })}\n`);
} else {
  const db = await Database.create(await FileStore.open(dir), {});
  if (mode === 'setup') await setUpWorkload(db, o);
  else {
    const final = await finalRead(db, o, 0);
    const integrity = await integrityFailures([{ name: 'final', db }]);
    process.stdout.write(`${JSON.stringify({ final, integrity })}\n`);
  }
  await db.close();
}
