import { S3Error } from '../s3-error.js';

/**
 * What HTTP (and Node, which refuses to send anything else) allows in a header: a name is a token
 * (RFC 9110), a value is tabs, visible ASCII, spaces and obs-text bytes (0x80–0xFF, as Node reads
 * header bytes). No CR, LF, NUL or other control character, nothing above U+00FF (U+2028 …).
 */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

export const isHeaderName = (name: string): boolean => TOKEN.test(name);
export const isHeaderValue = (value: string): boolean => !INVALID_VALUE_CHAR.test(value);

/**
 * Refuses a header that is to be stored or sent back (object metadata, response overrides, CORS
 * rules) when it could not be sent as a header: stored, it would make every later GET fail.
 * Such headers only arrive by ways that bypass an HTTP client's own checks (POST form fields,
 * presigned URL query parameters, XML documents).
 */
export function checkHeader(name: string, value: string): void {
  if (!isHeaderName(name)) {
    throw new S3Error('InvalidArgument', 'Header names must be HTTP tokens (no spaces or control characters).', {
      ArgumentName: name.slice(0, 64),
    });
  }
  if (!isHeaderValue(value)) {
    throw new S3Error(
      'InvalidArgument',
      `The value of header ${name.slice(0, 64)} contains a character HTTP refuses.`,
      {
        ArgumentName: name.slice(0, 64),
      },
    );
  }
}
