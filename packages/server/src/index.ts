export { type AuthenticateOptions, authenticate, type User } from './auth/index.js';
export { BUCKET_NAMESPACES, paths } from './paths.js';
export { S3_ERRORS, S3Error, type S3ErrorCode } from './s3-error.js';
export {
  DEFAULT_CREDENTIALS,
  DEFAULT_TIMEOUTS,
  type RunningServer,
  type ServerOptions,
  type ServerTimeouts,
  startServer,
} from './start-server.js';
