export { type ChildResult, collect, runTs, spawnTs, type TempDir, tempDir } from '@bucketdb/testkit-base';
export { describeStoreConformance, expectStoreError, type StoreConformanceOptions } from '@bucketdb/store/conformance';
export {
  BACKEND_NAMES,
  type BackendName,
  openTestBackend,
  TEST_BUCKET,
  TEST_CREDENTIALS,
  type TestBackend,
  type TestBackendOptions,
  testBackendNames,
} from './backends.js';
export { type LeaseSwarmOptions, type LeaseSwarmResult, runLeaseSwarm } from './lease-swarm.js';
export { ScriptedStore, type ScriptedRule } from './scripted-store.js';
export {
  type Anomaly,
  type AnomalyType,
  type CheckResult,
  checkHistory,
  type HistoryOp,
  type HistoryTxn,
} from './history-checker.js';
