export { type AwsChunkedOptions, readAwsChunked } from './aws-chunked.js';
export { type ChecksumPlan, checksumPlan } from './checksum-plan.js';
export { ChunkSignatureChain } from './chunk-signature-chain.js';
export { storedContentEncoding } from './content-encoding.js';
export { type BodyChecksums, type DecodedBody, type DecodeOptions, decodeRequestBody } from './decode-request-body.js';
export { requestBodySource } from './request-body-source.js';
