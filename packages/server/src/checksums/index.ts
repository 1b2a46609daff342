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
