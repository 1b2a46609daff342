/**
 * The Content-Encoding to store with an object: the request's, minus `aws-chunked`, which
 * describes only the upload's framing. Undefined when nothing is left.
 */
export function storedContentEncoding(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value.join(',') : value;
  if (raw === undefined) return undefined;
  const rest = raw
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '' && token.toLowerCase() !== 'aws-chunked');
  return rest.length > 0 ? rest.join(',') : undefined;
}
