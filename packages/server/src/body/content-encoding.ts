/**
 * The Content-Encoding to store with an object: the request's, minus `aws-chunked`, which
 * describes only the upload's framing. Undefined when nothing is left.
 */
export function storedContentEncoding(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value.join(',') : value;
  if (raw === undefined) return undefined;
  // The other codings are kept as the client wrote them (spaces included), only aws-chunked goes.
  const rest = raw
    .split(',')
    .filter((token) => token.trim().toLowerCase() !== 'aws-chunked')
    .join(',')
    .trim();
  return rest === '' ? undefined : rest;
}
