import { randomBytes } from 'node:crypto';

/** Version and upload ids: a time-ordered part (base 36) and 64 random bits. */
export function newId(seq: number): string {
  return `${seq.toString(36).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}

const ID_PATTERN = /^[0-9a-z]{12}[0-9a-f]{16}$/;

export function isWellFormedId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** The time-ordered part of a well-formed id: ids of later versions of a key give larger values. */
export function seqOfId(id: string): number {
  return Number.parseInt(id.slice(0, 12), 36);
}
