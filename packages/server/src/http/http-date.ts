/**
 * `Date.toUTCString()` (the HTTP date format), remembered for the last second formatted:
 * objects written in the same second share a Last-Modified, and formatting a date is one of the
 * larger costs of a small GET's headers.
 */
let lastSecond = Number.NaN;
let lastText = '';

export function httpDate(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    lastText = date.toUTCString();
    lastSecond = second;
  }
  return lastText;
}
