import {
  type CreateGroupOptions,
  formatPosition,
  type GroupInfo,
  parsePosition,
  type Position,
} from '@bucketdb/events';
import { type Command, InvalidArgumentError } from 'commander';
import {
  allFrom,
  EVENTS_EXIT,
  filterOf,
  nonNegativeInteger,
  printJson,
  type ReadCliOptions,
  type StoreOptions,
  withEvents,
  withStore,
} from './events.js';

interface CreateCliOptions extends ReadCliOptions {
  stream?: string;
  maxRetries?: number;
  ackTimeoutMs?: number;
  maxPending?: number;
}

/** `bucketdb events groups …`: consumer groups (persistent subscriptions) of an event store. */
export function registerEventsGroupsCommand(program: Command): void {
  const events = program.commands.find((c) => c.name() === 'events');
  if (!events) throw new Error('register the events command first');
  const groups = events
    .command('groups')
    .description("consumer groups: members share a group's events, each delivered until acknowledged")
    .addHelpText(
      'after',
      `
Members join a group from the library (EventStore.subscribeToGroup) and ack or nack each event;
these commands create, inspect and manage groups. Output is JSON. Exit codes as for
\`bucketdb events\`: 4 no such group, 5 a group of that name exists with other settings.

Examples:
  bucketdb events groups create ./data billing --stream-prefix order- --max-retries 5 --from end
  bucketdb events groups list ./data
  bucketdb events groups info ./data billing
  bucketdb events groups replay-parked ./data billing --position 42:0
  bucketdb events groups delete ./data billing`,
    );

  withStore(groups.command('create'))
    .description('create a group (the same settings again is fine); print its info')
    .argument('<group>', 'the group name')
    .option('--stream <stream>', 'a stream, or $all (default)')
    .option('--from <where>', 'deliver events after a position <record>:<index>, or start (default) or end')
    .option('--stream-prefix <prefix>', 'only streams starting with this')
    .option('--type <type>', 'only events of this type')
    .option('--regex <regex>', 'only streams matching this regular expression')
    .option(
      '--max-retries <n>',
      'deliveries after the first before an event is parked (default 10)',
      nonNegativeInteger,
    )
    .option('--ack-timeout-ms <ms>', 'how long a member owns a delivered event (default 30000)', nonNegativeInteger)
    .option('--max-pending <n>', 'most unsettled events tracked at once (default 1000)', nonNegativeInteger)
    .action(async (url: string, name: string, options: StoreOptions & CreateCliOptions) => {
      await withEvents(url, options, async (store) => {
        const create: CreateGroupOptions = { ...filterOf(options), ...allFrom(options.from) };
        if (options.stream !== undefined) create.stream = options.stream;
        if (options.maxRetries !== undefined) create.maxRetries = options.maxRetries;
        if (options.ackTimeoutMs !== undefined) create.ackTimeoutMs = options.ackTimeoutMs;
        if (options.maxPending !== undefined) create.maxPending = options.maxPending;
        printJson(infoJson(await store.createGroup(name, create)));
      });
    });

  withStore(groups.command('list'))
    .description('list every group, one {"group"} per line')
    .action(async (url: string, options: StoreOptions) => {
      await withEvents(url, options, async (store) => {
        for (const group of await store.listGroups()) printJson({ group });
      });
    });

  withStore(groups.command('info'))
    .description("print a group's settings, progress, parked events and members")
    .argument('<group>', 'the group name')
    .action(async (url: string, name: string, options: StoreOptions) => {
      await withEvents(url, options, async (store) => printJson(infoJson(await store.groupInfo(name))));
    });

  withStore(groups.command('replay-parked'))
    .description('deliver parked events again (all, or those at --position); print {"replayed": n}')
    .argument('<group>', 'the group name')
    .option('--position <position...>', 'only the parked events at these positions <record>:<index>', positions)
    .action(async (url: string, name: string, options: StoreOptions & { position?: Position[] }) => {
      await withEvents(url, options, async (store) => {
        printJson({ group: name, replayed: await store.replayParked(name, options.position) });
      });
    });

  withStore(groups.command('delete'))
    .description('delete a group (its members stop at their next write); print {"deleted"}')
    .argument('<group>', 'the group name')
    .action(async (url: string, name: string, options: StoreOptions) => {
      await withEvents(url, options, async (store) => {
        const deleted = await store.deleteGroup(name);
        printJson({ group: name, deleted });
        if (!deleted) process.exitCode = EVENTS_EXIT.groupNotFound;
      });
    });

  for (const command of groups.commands) {
    command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EVENTS_EXIT.usage));
  }
}

function positions(text: string, previous: Position[] | undefined): Position[] {
  try {
    return [...(previous ?? []), parsePosition(text)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function infoJson(info: GroupInfo): Record<string, unknown> {
  const { settings, parked, ...rest } = info;
  return {
    ...rest,
    settings: { ...settings, after: formatPosition(settings.after) },
    createdAt: new Date(info.createdAt).toISOString(),
    parked: parked.map((p) => ({
      ...p,
      position: formatPosition(p.position),
      parkedAt: new Date(p.parkedAt).toISOString(),
    })),
  };
}
