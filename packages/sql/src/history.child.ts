/**
 * One process of the multi-process history check: two handles on the file store in `dir` (each
 * its own FileStore, wrapped in seeded faults), running the workload; prints its history.
 *   history.child.ts <dir> <origin> <seed> <workload options as JSON>
 */
import { FileStore } from '@bucketdb/store';
import { Database } from './database.js';
import { chaos, integrityFailures, runWorkload, type WorkloadOptions } from './fixtures/history-workload.js';

const [dir, origin, seed, json] = process.argv.slice(2) as [string, string, string, string];
const o: WorkloadOptions = { ...(JSON.parse(json) as WorkloadOptions), origin: Number(origin), seed: Number(seed) };
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
