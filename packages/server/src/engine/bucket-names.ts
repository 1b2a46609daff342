import { S3Error } from '../s3-error.js';

const NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3'];

/** S3's general-purpose bucket naming rules; throws InvalidBucketName naming the broken rule. */
export function validateBucketName(name: string): void {
  const fail = (why: string) => {
    throw new S3Error('InvalidBucketName', `The specified bucket is not valid: ${why}`, {
      BucketName: name.slice(0, 100),
    });
  };
  if (!NAME.test(name)) {
    fail('3 to 63 characters of a-z, 0-9, dots and hyphens, starting and ending with a letter or digit');
  }
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) fail('no adjacent dots or dot-hyphens');
  if (IP.test(name)) fail('a bucket name must not look like an IP address');
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) fail('the prefix is reserved');
  if (RESERVED_SUFFIXES.some((s) => name.endsWith(s))) fail('the suffix is reserved');
}

/** Whether a string can name a bucket at all (for routing decisions, no exception). */
export function isBucketName(name: string): boolean {
  try {
    validateBucketName(name);
    return true;
  } catch {
    return false;
  }
}
