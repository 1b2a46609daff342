import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error } from '../s3-error.js';
import { ALGORITHM, parseAmzDate, parseCredential } from './credentials.js';
import { hmacMatches, signingKey } from './crypto.js';
import type { User, UserDirectory } from './types.js';

type Fields = ReadonlyMap<string, string>;

const missing = (name: string) =>
  new S3Error(
    'InvalidArgument',
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    { ArgumentName: name },
  );

const mismatch = (accessKeyId: string, policy: string) =>
  new S3Error(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    { AWSAccessKeyId: accessKeyId, StringToSign: policy },
  );

function required(fields: Fields, name: string): string {
  const value = fields.get(name);
  if (value === undefined) throw missing(name);
  return value;
}

function userOf(users: UserDirectory, accessKeyId: string): User {
  const user = users(accessKeyId);
  if (!user) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: accessKeyId,
    });
  }
  return user;
}

/**
 * Who signed a POST form's policy. The string signed is the `policy` field exactly as sent:
 * Signature Version 4 (`x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, hex
 * `x-amz-signature`, an HMAC-SHA256 under the usual derived key) or, as S3 still accepts,
 * Version 2 (`AWSAccessKeyId` and a base64 HMAC-SHA1 `signature`). The policy's own expiration
 * bounds its use, so `x-amz-date` is not checked against the clock.
 */
export function verifyPostSignature(fields: Fields, policy: string, users: UserDirectory): User {
  if (!fields.has('x-amz-signature') && !fields.has('x-amz-algorithm') && fields.has('awsaccesskeyid')) {
    return verifyV2(fields, policy, users);
  }
  const algorithm = required(fields, 'x-amz-algorithm');
  if (algorithm !== ALGORITHM) {
    throw new S3Error('InvalidArgument', `Unsupported x-amz-algorithm '${algorithm}'; expecting ${ALGORITHM}.`, {
      ArgumentName: 'x-amz-algorithm',
      ArgumentValue: algorithm,
    });
  }
  const credential = required(fields, 'x-amz-credential');
  const scope = parseCredential(
    credential,
    (message) => new S3Error('InvalidArgument', message, { ArgumentName: 'x-amz-credential' }),
  );
  const amzDate = required(fields, 'x-amz-date');
  if (parseAmzDate(amzDate) === undefined || amzDate.slice(0, 8) !== scope.date) {
    throw new S3Error('InvalidArgument', `Invalid x-amz-date '${amzDate}' for credential date ${scope.date}.`, {
      ArgumentName: 'x-amz-date',
    });
  }
  const signature = required(fields, 'x-amz-signature');
  const user = userOf(users, scope.accessKeyId);
  const key = signingKey(user.secretAccessKey, scope.date, scope.region, scope.service);
  if (!hmacMatches(key, policy, signature)) throw mismatch(scope.accessKeyId, policy);
  return user;
}

function verifyV2(fields: Fields, policy: string, users: UserDirectory): User {
  const accessKeyId = required(fields, 'awsaccesskeyid');
  const signature = required(fields, 'signature');
  const user = userOf(users, accessKeyId);
  const expected = createHmac('sha1', user.secretAccessKey).update(policy, 'utf8').digest('base64');
  // Base64 is case-sensitive: compare as sent, in constant time.
  const provided = Buffer.from(signature);
  if (provided.length !== expected.length || !timingSafeEqual(provided, Buffer.from(expected))) {
    throw mismatch(accessKeyId, policy);
  }
  return user;
}
