import { readGcFloor } from '@bucketdb/log';
import { isStoreError, type ObjectStore } from '@bucketdb/store';
import { checkGroupName } from './consumer-groups.js';
import { EventsError, PositionCollectedError } from './errors.js';
import type { EventPaths } from './paths.js';
import { checkPosition, comparePositions, formatPosition, parsePosition, START } from './position.js';
import type { Position } from './types.js';

export interface RetentionHold {
  name: string;
  /** The last position its owner processed: GC keeps the records from this one's on. */
  position: Position;
}

/**
 * Retention holds (docs/design/events.md, "Retention"): saved positions of subscribers and
 * projections that GC keeps, one plain object each (`holds/<name>`), written by its one owner.
 */
export class RetentionHolds {
  readonly #store: ObjectStore;
  readonly #paths: EventPaths;

  constructor(store: ObjectStore, paths: EventPaths) {
    this.#store = store;
    this.#paths = paths;
  }

  /**
   * Sets hold `name` to `position`. Fails with `Collected`, and removes the hold, when the
   * position is at or below the GC floor read after the write (a floor raised before the hold
   * landed may already collect it).
   */
  async set(name: string, position: Position): Promise<void> {
    checkGroupName(name, 'a hold name');
    checkPosition(position, 'position');
    const body = new TextEncoder().encode(JSON.stringify({ position: formatPosition(position) }));
    await this.#store.put(this.#paths.hold(name), body);
    const f = (await readGcFloor(this.#store, this.#paths.log))?.floor;
    const collected = f ? Math.max(f.floor, f.effective) : 0;
    if (comparePositions(position, START) > 0 && position.record <= collected) {
      // A hold that cannot keep anything must not pin the floor either.
      await this.#store.delete(this.#paths.hold(name));
      throw new PositionCollectedError(`hold ${name} at ${formatPosition(position)}`, collected);
    }
  }

  /** Removes hold `name`; false when there was none. */
  async release(name: string): Promise<boolean> {
    checkGroupName(name, 'a hold name');
    const existed = (await this.#get(name)) !== undefined;
    await this.#store.delete(this.#paths.hold(name));
    return existed;
  }

  async list(): Promise<RetentionHold[]> {
    const out: RetentionHold[] = [];
    for await (const e of this.#store.list({ prefix: this.#paths.holdsDir })) {
      if (e.kind !== 'object') continue;
      const name = e.key.slice(this.#paths.holdsDir.length);
      const position = await this.#get(name);
      if (position) out.push({ name, position });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async #get(name: string): Promise<Position | undefined> {
    try {
      const { body } = await this.#store.get(this.#paths.hold(name));
      return parsePosition((JSON.parse(new TextDecoder().decode(body)) as { position: string }).position);
    } catch (error) {
      if (isStoreError(error, 'NotFound')) return undefined;
      throw new EventsError('Corrupt', `retention hold ${name} is unreadable`, { cause: error });
    }
  }
}
