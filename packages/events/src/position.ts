import { EventsError } from './errors.js';
import type { Position } from './types.js';

export const START: Position = { record: 0, index: 0 };

export function comparePositions(a: Position, b: Position): number {
  return a.record - b.record || a.index - b.index;
}

/** `42:3` */
export function formatPosition(p: Position): string {
  return `${p.record}:${p.index}`;
}

export function parsePosition(text: string): Position {
  const m = /^(\d{1,16}):(\d{1,9})$/.exec(text);
  const position = m ? { record: Number(m[1]), index: Number(m[2]) } : undefined;
  if (!position || !Number.isSafeInteger(position.record)) {
    throw new EventsError('InvalidArgument', `a position is <record>:<index>, e.g. 42:0; got ${JSON.stringify(text)}`);
  }
  return position;
}

export function checkPosition(p: Position, what: string): void {
  if (
    typeof p !== 'object' ||
    p === null ||
    !Number.isSafeInteger(p.record) ||
    !Number.isSafeInteger(p.index) ||
    p.record < 0 ||
    p.index < 0
  ) {
    throw new EventsError('InvalidArgument', `${what} must be a position {record, index} of non-negative integers`);
  }
}
