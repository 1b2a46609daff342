export {
  CHECKSUM_ALGORITHMS,
  CHECKSUM_BYTES,
  type ChecksumAlgorithm,
  checksumHeader,
  checksumName,
  isChecksumAlgorithm,
  isValidChecksumValue,
  parseChecksumAlgorithm,
} from './algorithms.js';
export { compositeChecksum } from './composite.js';
export { type CombinableCrc, fullObjectChecksum, isCombinableCrc } from './full-object.js';
export { checksumOf, crc32cIsNative, createHasher, type Hasher } from './hasher.js';
export { hashingBody } from './hashing-body.js';
export {
  CHECKSUM_TYPES,
  type ChecksumType,
  checksumElement,
  checksumTypeOf,
  claimedObjectChecksumMatches,
  type MultipartChecksum,
  multipartObjectChecksum,
  parseMultipartChecksum,
} from './multipart-checksum.js';
