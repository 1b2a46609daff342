import type { Database, TransactionContext } from '@bucketdb/sql';
import { EventsError } from './errors.js';
import type { EventStore } from './event-store.js';
import type { PollOptions } from './follow.js';
import { checkPosition, comparePositions } from './position.js';
import type { EventFilter, Position, RecordedEvent } from './types.js';

/** The table, in the projection's own database, that holds each projection's position. */
export const PROJECTIONS_TABLE = '_bucketdb_projections';

export interface ProjectOptions extends PollOptions {
  /** The SQL database the projection writes to (its position lives there too). */
  db: Database;
  /** Names this projection's position row; several projections may share a database. */
  name: string;
  /** Applies one event with the transaction's synchronous statements; throwing stops the projection. */
  handler: (event: RecordedEvent, tx: TransactionContext) => void;
  /** Where to start when the database holds no position for `name` (default 'start'; exclusive). */
  from?: Position | 'start';
  filter?: EventFilter;
  /** Stop once the event at or after this position is applied (for batch jobs and tests; use without a filter). */
  stopAfter?: Position;
}

export interface Projection {
  /** Settles when the projection stops: `stop()`, `stopAfter`, or an error (rejects). */
  readonly done: Promise<void>;
  /** The position of the last event applied (as of this process). */
  readonly position: Position | undefined;
  stop(): Promise<void>;
}

/**
 * Applies every event after the projection's saved position to a bucketdb SQL database, each in
 * one SQL transaction that also moves the position. The event's effects and the position commit
 * together or not at all, and an event at or below the saved position is skipped inside the same
 * transaction, so a crash at any point, a restart, or a second runner of the same projection can
 * neither lose an event nor apply one twice.
 */
export function project(events: EventStore, options: ProjectOptions): Projection {
  const { db, name, handler } = options;
  if (typeof name !== 'string' || name === '') throw new EventsError('InvalidArgument', 'a projection needs a name');
  if (typeof handler !== 'function') throw new EventsError('InvalidArgument', 'a projection needs a handler');
  if (options.stopAfter !== undefined) checkPosition(options.stopAfter, 'stopAfter');
  if (options.from !== undefined && options.from !== 'start') checkPosition(options.from, 'from');
  let position: Position | undefined;
  let stopped = false;
  let subscription: ReturnType<EventStore['subscribeToAll']> | undefined;
  const run = async () => {
    await db.exec(
      `CREATE TABLE IF NOT EXISTS ${PROJECTIONS_TABLE} (name TEXT PRIMARY KEY, record INTEGER NOT NULL, idx INTEGER NOT NULL)`,
    );
    const saved = await db.get<{ record: number; idx: number }>(
      `SELECT record, idx FROM ${PROJECTIONS_TABLE} WHERE name = ?`,
      [name],
    );
    position = saved ? { record: saved.record, index: saved.idx } : undefined;
    if (options.stopAfter && position && comparePositions(position, options.stopAfter) >= 0) return;
    if (stopped) return;
    const { db: _db, name: _name, handler: _handler, stopAfter: _stop, from, ...poll } = options;
    subscription = events.subscribeToAll({ ...poll, from: position ?? from ?? 'start' });
    for await (const event of subscription) {
      await db.transaction((tx) => {
        const row = tx.get<{ record: number; idx: number }>(
          `SELECT record, idx FROM ${PROJECTIONS_TABLE} WHERE name = ?`,
          [name],
        );
        if (row && comparePositions(event.position, { record: row.record, index: row.idx }) <= 0) return;
        handler(event, tx);
        tx.run(
          `INSERT INTO ${PROJECTIONS_TABLE} (name, record, idx) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET record = excluded.record, idx = excluded.idx`,
          [name, event.position.record, event.position.index],
        );
      });
      position = event.position;
      if (options.stopAfter && comparePositions(position, options.stopAfter) >= 0) break;
      if (stopped) break;
    }
  };
  const done = run().finally(() => subscription?.close());
  return {
    done,
    get position() {
      return position;
    },
    async stop() {
      stopped = true;
      await subscription?.close();
      await done.catch(() => {});
    },
  };
}
