// The combiner moved to @bucketdb/store, where the transfer engine (packages/files) uses it too.
export { type CombinableCrc, fullObjectChecksum, isCombinableCrc } from '@bucketdb/store';
