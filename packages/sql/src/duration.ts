import { InvalidArgumentError } from '@bucketdb/store';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration such as `7d`, `36h`, `90m`, `30s`, `250ms` or a number of ms, in ms. */
export function parseDuration(value: string | number, what = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(value);
    if (m) return Number(m[1]) * (UNITS[m[2] as string] as number);
  }
  throw new InvalidArgumentError(`${what} must be like 7d, 12h, 30m, 45s or 500ms, got ${JSON.stringify(value)}`);
}
