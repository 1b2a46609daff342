import { StoreError } from '@bucketdb/store';
import { S3Error } from '../s3-error.js';

/**
 * The one place that turns whatever a handler threw into an S3 error. Store errors keep their
 * meaning (412, 409, 503, 416, ...); anything unexpected becomes InternalError, and is logged.
 */
export function toS3Error(error: unknown, key?: string): { error: S3Error; unexpected: boolean } {
  if (error instanceof S3Error) return { error, unexpected: false };
  if (error instanceof StoreError) {
    const details: Record<string, string> = key === undefined ? {} : { Key: key };
    switch (error.code) {
      case 'NotFound':
        return { error: new S3Error('NoSuchKey', 'The specified key does not exist.', details), unexpected: false };
      case 'PreconditionFailed':
        return {
          error: new S3Error(
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
            details,
          ),
          unexpected: false,
        };
      case 'ConflictInFlight':
        return {
          error: new S3Error(
            'ConditionalRequestConflict',
            'A conflicting conditional operation is currently in progress against this resource. Please try again.',
            details,
          ),
          unexpected: false,
        };
      case 'Throttled':
        return { error: new S3Error('SlowDown', 'Please reduce your request rate.'), unexpected: false };
      case 'Transient':
      case 'Closed':
        return { error: new S3Error('ServiceUnavailable', 'Please retry your request.'), unexpected: false };
      case 'InvalidRange':
        return {
          error: new S3Error('InvalidRange', 'The requested range is not satisfiable', details),
          unexpected: false,
        };
      case 'InvalidKey':
        return { error: new S3Error('InvalidArgument', error.message, details), unexpected: false };
      case 'InvalidArgument':
        return { error: new S3Error('InvalidArgument', error.message), unexpected: false };
      default:
        break;
    }
  }
  return {
    error: new S3Error('InternalError', 'We encountered an internal error. Please try again.'),
    unexpected: true,
  };
}
