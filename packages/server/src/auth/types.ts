/**
 * The contract between request authentication (this folder) and the request handlers.
 * Authentication looks only at the request line and headers; the body is checked while it
 * streams, by `decodeRequestBody`, so a bad signature or checksum is found before anything is
 * stored and nothing is buffered whole.
 */

export interface User {
  /** A display name; defaults to the access key id. */
  name?: string;
  /** The canonical id S3 shows as this user's Owner ID (listings, ACLs); default: the access key id. */
  id?: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** What authentication needs from an HTTP request. */
export interface AuthInput {
  method: string;
  /** The path exactly as it arrived on the wire (percent-encoded, no query string). */
  rawPath: string;
  /** The query string exactly as it arrived, without the leading `?` ('' when absent). */
  rawQuery: string;
  /** `rawQuery` already parsed, when the caller has it. */
  query?: URLSearchParams;
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  /**
   * The bucket named by the Host header in virtual-host-style addressing, when it is not in the
   * path. Only Signature Version 2 needs it (its canonical resource starts with `/<bucket>`).
   */
  virtualHostBucket?: string;
}

/** How the payload is protected, which decides how `decodeRequestBody` reads it. */
export type PayloadMode =
  /** `x-amz-content-sha256` is a hex SHA-256: verified once the body has been read. */
  | { kind: 'sha256'; sha256: string }
  /** `UNSIGNED-PAYLOAD`, presigned URLs, anonymous requests. */
  | { kind: 'unsigned' }
  /** `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: aws-chunked with a signature per chunk. */
  | {
      kind: 'streaming-signed';
      trailer: boolean;
      seedSignature: string;
      signingKey: Uint8Array;
      scope: string;
      amzDate: string;
    }
  /** `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked, unsigned chunks, a trailing checksum. */
  | { kind: 'streaming-unsigned-trailer' };

export type AuthResult =
  | { kind: 'anonymous'; payload: PayloadMode }
  | {
      kind: 'user';
      user: User;
      payload: PayloadMode;
      /** How the request was signed; absent means the Authorization header. */
      via?: 'header' | 'presigned';
      /**
       * A presigned URL's `x-amz-*` query parameters other than the signature's own (e.g.
       * `x-amz-checksum-crc32`, `x-amz-acl`): S3 treats them as request headers. Lower-case names.
       */
      queryHeaders?: Record<string, string>;
    };

/** Looks up a user by access key id. */
export type UserDirectory = (accessKeyId: string) => User | undefined;
