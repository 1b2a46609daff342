// One ingester process: exports $all of an event store into the lake table `ev`, printing a line
// per committed batch (the test kills it mid-run, then runs it again). Used by processes.test.ts.
import { EventStore } from '@bucketdb/events';
import { openStore } from '@bucketdb/store';
import { eventSource, ingest, Lake } from './index.js';

const [lakeUrl, eventsUrl, batchArg] = process.argv.slice(2);
if (!lakeUrl || !eventsUrl || !batchArg)
  throw new Error('usage: event-ingest.child.ts <lake-url> <events-url> <batch>');
const store = await openStore(lakeUrl);
const events = await EventStore.open(eventsUrl);
const lake = await Lake.open({ store, checkpointInterval: 5 });
try {
  const result = await ingest(lake.table('ev'), eventSource(events, { all: true }), {
    appId: `events:${eventsUrl}`,
    batch: Number(batchArg),
    onBatch: (p) => process.stdout.write(`${JSON.stringify({ batch: p })}\n`),
  });
  process.stdout.write(`${JSON.stringify({ done: result })}\n`);
} finally {
  await lake.close();
  await events.close();
  await store.close();
}
