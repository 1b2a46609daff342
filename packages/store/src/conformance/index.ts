// @bucketdb/store/conformance: the suite every ObjectStore must pass (Vitest), published with the
// contract it checks so that a backend in any package runs it (docs/store-backends.md).
export { describeStoreConformance, expectStoreError, type StoreConformanceOptions } from './store-conformance.js';
