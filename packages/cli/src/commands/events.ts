import {
  EventStore,
  type EventData,
  type EventFilter,
  type ExpectedRevision,
  formatPosition,
  isEventsError,
  parsePosition,
  PositionCollectedError,
  type RecordedEvent,
  WrongExpectedVersionError,
} from '@bucketdb/events';
import { MIN_GRACE_MS } from '@bucketdb/log';
import { parseDuration } from '@bucketdb/sql';
import { type Command, InvalidArgumentError } from 'commander';

/** Exit codes of `bucketdb events`: scripts can tell a lost expected-revision race from a failure. */
export const EVENTS_EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  wrongExpectedRevision: 3,
  groupNotFound: 4,
  groupExists: 5,
  streamDeleted: 6,
  collected: 7,
} as const;

const STORE_ARG = 'store URL: ./dir, file:///abs/dir, mem://, s3://bucket/prefix?endpoint=URL';

export interface StoreOptions {
  prefix?: string;
}

export interface ReadCliOptions extends StoreOptions {
  from?: string;
  backwards?: boolean;
  limit?: number;
  streamPrefix?: string;
  type?: string;
  regex?: string;
}

export function registerEventsCommand(program: Command): void {
  const events = program
    .command('events')
    .description('event store on the bucket: streams with expected revisions, one global order, subscriptions')
    .addHelpText(
      'after',
      `
An event is JSON: {"type": "...", "data": <JSON>, "metadata"?: {...}, "id"?: "..."}. Giving ids
makes a retried append safe: events already written are not written again.
Output is JSON, one object per line. Positions in the global order are <record>:<index>.

Exit codes: 0 ok, 1 error, 2 usage error (bad arguments or events), 3 wrong expected revision,
4 no such consumer group, 5 the group exists with other settings, 6 the stream is deleted,
7 the position is at or below the GC floor (retention deleted its records; resume from start).

Examples:
  bucketdb events append ./data order-1 '{"type":"Created","data":{"total":5}}' --expected-revision no_stream
  bucketdb events read ./data order-1
  bucketdb events read ./data '$all' --from 12:0 --type Created
  bucketdb events subscribe ./data '$all' --from 40:2
  bucketdb events streams ./data
  bucketdb events groups create ./data billing --stream-prefix order- --max-retries 5
  bucketdb events groups info ./data billing
  bucketdb events gc ./data --dry-run`,
    );

  withStore(events.command('append'))
    .description('append events to a stream atomically; print {"stream","nextRevision","position"}')
    .argument('<stream>', 'the stream')
    .argument('<events...>', 'events as JSON objects ("-": one JSON object per line from stdin)')
    .option('--expected-revision <revision>', 'N, any, no_stream or stream_exists (default: any)', expectedRevision)
    .action(
      async (
        url: string,
        stream: string,
        args: string[],
        options: StoreOptions & { expectedRevision?: ExpectedRevision },
      ) => {
        await withEvents(url, options, async (store) => {
          const list = await readEvents(args);
          const result = await store.append(stream, list, { expectedRevision: options.expectedRevision ?? 'any' });
          printJson({ stream, nextRevision: result.nextRevision, position: formatPosition(result.position) });
        });
      },
    );

  withReadOptions(withStore(events.command('read')))
    .description("print a stream's events, or every event ($all), one JSON object per line")
    .argument('<stream>', 'a stream, or $all')
    .option('--backwards', 'newest first')
    .option('--limit <n>', 'at most this many events', nonNegativeInteger)
    .action(async (url: string, stream: string, options: ReadCliOptions) => {
      await withEvents(url, options, async (store) => {
        const direction = options.backwards ? 'backwards' : 'forwards';
        const limit = options.limit === undefined ? {} : { limit: options.limit };
        let read: AsyncIterable<RecordedEvent>;
        if (stream === '$all') {
          read = store.readAll({ direction, ...limit, ...allFrom(options.from), ...filterOf(options) });
        } else {
          noFilter(options);
          read = store.readStream(stream, { direction, ...limit, ...streamFrom(options.from) });
        }
        const progress = progressLine();
        for await (const event of read) {
          printJson(eventJson(event));
          progress();
        }
        progress(true);
      });
    });

  withReadOptions(withStore(events.command('subscribe')))
    .description('print every event after --from (default: the end) as it is appended, until --count or Ctrl-C')
    .argument('<stream>', 'a stream, or $all')
    .option('--count <n>', 'stop after this many events', nonNegativeInteger)
    .option(
      '--poll-max-ms <ms>',
      'longest wait between polls of the next slot when idle (default 200)',
      nonNegativeInteger,
    )
    .action(async (url: string, stream: string, options: ReadCliOptions & { count?: number; pollMaxMs?: number }) => {
      await withEvents(url, options, async (store) => {
        const poll = options.pollMaxMs === undefined ? {} : { pollMaxMs: options.pollMaxMs };
        let subscription;
        if (stream === '$all') {
          const from = options.from === undefined ? 'end' : allFrom(options.from).from;
          subscription = store.subscribeToAll({ ...poll, from: from ?? 'end', ...filterOf(options) });
        } else {
          noFilter(options);
          const from = options.from === undefined ? 'end' : streamFrom(options.from).from;
          subscription = store.subscribeToStream(stream, { ...poll, from: from ?? 'end' });
        }
        const stop = () => void subscription.close();
        process.once('SIGINT', stop);
        let n = 0;
        try {
          if (options.count === 0) return;
          for await (const event of subscription) {
            printJson(eventJson(event));
            if (options.count !== undefined && ++n >= options.count) break;
          }
        } finally {
          process.off('SIGINT', stop);
          await subscription.close();
        }
      });
    });

  withStore(events.command('streams'))
    .description('list every stream with its revision, one {"stream","revision"} per line')
    .action(async (url: string, options: StoreOptions) => {
      await withEvents(url, options, async (store) => {
        for (const s of await store.streams()) printJson(s);
      });
    });

  withStore(events.command('gc'))
    .description(
      'retention: delete log records whose events stream metadata hides and no consumer group needs (docs/design/events.md)',
    )
    .option('--dry-run', 'report what would be deleted now, delete nothing, leave the floor')
    .option(
      '--grace <duration>',
      'delete only this long after a pass decided it: 1m, 1h, ... (default 1h)',
      graceOption,
    )
    .action(async (url: string, options: StoreOptions & { dryRun?: boolean; grace?: number }) => {
      await withEvents(url, options, async (store) => {
        const r = await store.gc({
          dryRun: options.dryRun ?? false,
          ...(options.grace === undefined ? {} : { graceMs: options.grace }),
        });
        printJson({
          dryRun: r.dryRun,
          floor: r.effectiveFloor,
          raisedFloor: r.raisedFloor ?? null,
          neededFrom: r.neededFrom,
          neededBy: r.neededBy,
          deleted: r.deleted,
        });
      });
    });

  for (const command of events.commands) {
    // Usage errors (a missing argument, an unknown option, a bad value) exit 2, as documented.
    command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EVENTS_EXIT.usage));
  }
}

export function withStore(command: Command): Command {
  return command
    .argument('<store>', STORE_ARG)
    .option('--prefix <prefix>', 'where in the store the event store lives (default: its root)');
}

function withReadOptions(command: Command): Command {
  return command
    .option('--from <where>', 'a stream: a revision, start or end; $all: a position <record>:<index>, start or end')
    .option('--stream-prefix <prefix>', '$all only: streams starting with this')
    .option('--type <type>', '$all only: events of this type')
    .option('--regex <regex>', '$all only: streams matching this regular expression');
}

export async function withEvents(
  url: string,
  options: StoreOptions,
  run: (store: EventStore) => Promise<void>,
): Promise<void> {
  try {
    await using store = await EventStore.open(url, options.prefix === undefined ? {} : { prefix: options.prefix });
    await run(store);
  } catch (error) {
    if (error instanceof WrongExpectedVersionError) {
      process.stderr.write(`bucketdb: ${error.message}\n`);
      printJson({ error: error.code, stream: error.stream, actualRevision: error.actualRevision });
      process.exitCode = EVENTS_EXIT.wrongExpectedRevision;
      return;
    }
    const code = isEventsError(error) ? error.code : undefined;
    const coded = {
      GroupNotFound: 'groupNotFound',
      GroupExists: 'groupExists',
      StreamDeleted: 'streamDeleted',
      Collected: 'collected',
    } as const;
    if (code !== undefined && code in coded) {
      process.stderr.write(`bucketdb: ${(error as Error).message}\n`);
      printJson({ error: code, ...(error instanceof PositionCollectedError ? { floor: error.floor } : {}) });
      process.exitCode = EVENTS_EXIT[coded[code as keyof typeof coded]];
      return;
    }
    const usage =
      error instanceof InvalidArgumentError ||
      isEventsError(error, 'InvalidArgument') ||
      isEventsError(error, 'InvalidEvent') ||
      isEventsError(error, 'InvalidStreamName') ||
      isEventsError(error, 'EventTooLarge') ||
      isEventsError(error, 'AppendTooLarge');
    process.exitCode = usage ? EVENTS_EXIT.usage : EVENTS_EXIT.error;
    throw error;
  }
}

async function readEvents(args: string[]): Promise<EventData[]> {
  const texts: string[] = [];
  for (const arg of args) {
    if (arg !== '-') {
      texts.push(arg);
      continue;
    }
    if (process.stdin.isTTY) throw new InvalidArgumentError('"-" reads events from stdin: pipe them in, one per line');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    texts.push(
      ...Buffer.concat(chunks)
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
  }
  return texts.map((text, n) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidArgumentError(`event ${n} is not JSON: ${text.slice(0, 80)}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(`event ${n} must be a JSON object {"type","data","metadata"?,"id"?}`);
    }
    const { type, data, metadata, id, ...rest } = value as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new InvalidArgumentError(`event ${n} has unknown fields: ${unknown.join(', ')}`);
    return { type, data, metadata, id } as EventData;
  });
}

function expectedRevision(text: string): ExpectedRevision {
  if (text === 'any' || text === 'no_stream' || text === 'stream_exists') return text;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('expected a revision N >= 0, any, no_stream or stream_exists');
  }
  return n;
}

export function allFrom(from: string | undefined): { from?: ReturnType<typeof parsePosition> | 'start' | 'end' } {
  if (from === undefined) return {};
  if (from === 'start' || from === 'end') return { from };
  try {
    return { from: parsePosition(from) };
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function streamFrom(from: string | undefined): { from?: number | 'start' | 'end' } {
  if (from === undefined) return {};
  if (from === 'start' || from === 'end') return { from };
  if (!/^\d+$/.test(from))
    throw new InvalidArgumentError(`--from for a stream is a revision, start or end; got ${from}`);
  return { from: Number(from) };
}

export function filterOf(options: ReadCliOptions): { filter?: EventFilter } {
  const filter: EventFilter = {};
  if (options.streamPrefix !== undefined) filter.streamPrefix = options.streamPrefix;
  if (options.type !== undefined) filter.eventType = options.type;
  if (options.regex !== undefined) {
    try {
      filter.regex = new RegExp(options.regex);
    } catch (error) {
      throw new InvalidArgumentError(`--regex: ${(error as Error).message}`);
    }
  }
  return Object.keys(filter).length > 0 ? { filter } : {};
}

function noFilter(options: ReadCliOptions): void {
  if (options.streamPrefix !== undefined || options.type !== undefined || options.regex !== undefined) {
    throw new InvalidArgumentError('--stream-prefix, --type and --regex filter $all only');
  }
}

function eventJson(e: RecordedEvent): Record<string, unknown> {
  const data =
    e.data instanceof Uint8Array
      ? { data: Buffer.from(e.data).toString('base64'), encoding: 'base64' }
      : { data: e.data };
  return {
    stream: e.stream,
    revision: e.revision,
    position: formatPosition(e.position),
    id: e.id,
    type: e.type,
    ...data,
    ...(Object.keys(e.metadata).length > 0 ? { metadata: e.metadata } : {}),
    timestamp: new Date(e.timestamp).toISOString(),
  };
}

/** On a terminal, a count of events read on stderr every 1000 events (long reads). */
function progressLine(): (done?: boolean) => void {
  let n = 0;
  const tty = process.stderr.isTTY === true;
  return (done = false) => {
    if (!tty) return;
    if (done) {
      if (n >= 1000) process.stderr.write(`\rread ${n} events\n`);
      return;
    }
    if (++n % 1000 === 0) process.stderr.write(`\rread ${n} events`);
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function graceOption(text: string): number {
  try {
    const ms = parseDuration(text, '--grace');
    if (ms < MIN_GRACE_MS) throw new InvalidArgumentError('--grace must be at least 1m');
    return ms;
  } catch (error) {
    throw error instanceof InvalidArgumentError ? error : new InvalidArgumentError((error as Error).message);
  }
}

export function nonNegativeInteger(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}
