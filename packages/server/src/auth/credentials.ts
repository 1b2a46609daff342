import { S3Error } from '../s3-error.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** S3 refuses presigned URLs that live longer than seven days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 3600;

/** What a SigV4 signature claims, from the Authorization header or a presigned URL's query. */
export interface SignatureClaim {
  presigned: boolean;
  accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  date: string;
  region: string;
  service: string;
  /** `<date>/<region>/<service>/aws4_request` */
  scope: string;
  /** Lower-case, in the order the client listed them. */
  signedHeaders: readonly string[];
  signature: string;
  /** X-Amz-Date of a presigned URL (the header's is read by the caller); `YYYYMMDDTHHMMSSZ`. */
  amzDate?: string;
  /** Presigned URLs only. */
  expiresSeconds?: number;
  /** Presigned URLs only: the query's `x-amz-*` parameters, which S3 treats as request headers. */
  hoistedHeaders?: Record<string, string>;
}

/** The query parameters that carry the signature itself, not request headers. */
const AUTH_PARAMETERS = new Set([
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-signedheaders',
  'x-amz-signature',
  'x-amz-content-sha256',
]);

const malformed = (message: string) => new S3Error('AuthorizationHeaderMalformed', message);
const queryError = (message: string) => new S3Error('AuthorizationQueryParametersError', message);

/** The spelling every SDK uses; anything else takes the general parser below. */
const USUAL_HEADER = /^AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([0-9a-fA-F]+)$/;

/** Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export function parseAuthorizationHeader(header: string): SignatureClaim {
  const usual = USUAL_HEADER.exec(header);
  if (usual) {
    const [, credential, signedHeaders, signature] = usual as unknown as [string, string, string, string];
    const scope = usualScope(credential, signedHeaders);
    return {
      presigned: false,
      accessKeyId: scope.accessKeyId,
      date: scope.date,
      region: scope.region,
      service: scope.service,
      scope: scope.scope,
      signedHeaders: scope.signedHeaders,
      signature,
    };
  }
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new S3Error(
      'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    );
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const trimmed = part.trim();
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw malformed(`The authorization header is malformed; unexpected component '${trimmed}'.`);
    fields.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformed('The authorization header is malformed; it needs Credential, SignedHeaders and Signature.');
  }
  return {
    presigned: false,
    ...parseCredential(credential, malformed),
    ...parseSigned(signedHeaders, malformed),
    signature,
  };
}

type Scope = ReturnType<typeof parseCredential> & ReturnType<typeof parseSigned>;

// A client sends the same credential and signed-header list on request after request (the
// signature is what changes): their parse is remembered rather than split and checked each time.
const usualScopes = new Map<string, Scope>();
const MAX_CACHED_SCOPES = 1024;

function usualScope(credential: string, signedHeaders: string): Scope {
  const id = `${credential} ${signedHeaders}`;
  let scope = usualScopes.get(id);
  if (!scope) {
    scope = { ...parseCredential(credential, malformed), ...parseSigned(signedHeaders, malformed) };
    // Shared by every claim that uses it: nobody may change the list.
    Object.freeze(scope.signedHeaders);
    if (usualScopes.size >= MAX_CACHED_SCOPES) usualScopes.clear();
    usualScopes.set(id, scope);
  }
  return scope;
}

/** Parses the `X-Amz-*` parameters of a presigned URL, given the decoded query parameters. */
export function parsePresignedQuery(params: URLSearchParams): SignatureClaim {
  const get = (name: string) => {
    const value = params.get(name);
    if (value === null) {
      throw queryError(
        `Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters; ${name} is missing.`,
      );
    }
    return value;
  };
  if (get('X-Amz-Algorithm') !== ALGORITHM) {
    throw queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const expiresText = get('X-Amz-Expires');
  const expiresSeconds = /^\d{1,9}$/.test(expiresText) ? Number(expiresText) : Number.NaN;
  if (!Number.isInteger(expiresSeconds)) throw queryError('X-Amz-Expires should be a number');
  // S3 documents these as malformed parameters, but answers 403 AccessDenied for both (observed).
  if (expiresSeconds < 1) {
    throw new S3Error('AccessDenied', 'X-Amz-Expires should be a number of seconds greater than 0');
  }
  if (expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw new S3Error('AccessDenied', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  }
  const hoistedHeaders: Record<string, string> = {};
  for (const [name, value] of params) {
    const lower = name.toLowerCase();
    if (lower.startsWith('x-amz-') && !AUTH_PARAMETERS.has(lower)) hoistedHeaders[lower] = value;
  }
  return {
    presigned: true,
    ...parseCredential(get('X-Amz-Credential'), queryError),
    ...parseSigned(get('X-Amz-SignedHeaders'), queryError),
    signature: get('X-Amz-Signature'),
    amzDate: get('X-Amz-Date'),
    expiresSeconds,
    hoistedHeaders,
  };
}

/** `<key>/<YYYYMMDD>/<region>/s3/aws4_request` (header, presigned URL or POST form); `error` makes the refusal. */
export function parseCredential(credential: string, error: (message: string) => S3Error) {
  const parts = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || !accessKeyId || !date || !region || !service || terminator !== 'aws4_request') {
    throw error(
      `The credential '${credential}' is malformed; expected "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
    );
  }
  if (!/^\d{8}$/.test(date)) throw error(`Invalid credential date "${date}". This date is not in yyyyMMdd format.`);
  if (service !== 's3') throw error(`The credential scope names service '${service}'; expecting 's3'.`);
  return { accessKeyId, date, region, service, scope: `${date}/${region}/${service}/aws4_request` };
}

function parseSigned(signedHeaders: string, error: (message: string) => S3Error) {
  const names = signedHeaders.split(';');
  if (names.some((n) => n === '' || n !== n.toLowerCase())) {
    throw error(`The SignedHeaders '${signedHeaders}' are malformed; expected lower-case names joined by ';'.`);
  }
  return { signedHeaders: names };
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

// Requests arriving in the same second carry the same date: remember the last one parsed.
let lastAmzDate = '';
let lastTime: Date | undefined;

/** Parses SigV4's `YYYYMMDDTHHMMSSZ`; undefined when malformed. */
export function parseAmzDate(value: string): Date | undefined {
  if (value !== lastAmzDate) {
    lastTime = parseAmzDateUncached(value);
    lastAmzDate = value;
  }
  return lastTime;
}

function parseAmzDateUncached(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return date.getUTCDate() === d ? date : undefined;
}
