export {
  BACKEND_NAMES,
  type BackendName,
  openTestBackend,
  TEST_BUCKET,
  TEST_CREDENTIALS,
  type TestBackend,
  testBackendNames,
} from './backends.js';
export { type ChildResult, collect, runTs, spawnTs } from './child.js';
export { type RunCliOptions, runCli } from './cli.js';
export { describeStoreConformance, expectStoreError, type StoreConformanceOptions } from './store-conformance.js';
export { type TempDir, tempDir } from './temp-dir.js';
export { ScriptedStore, type ScriptedRule } from './scripted-store.js';
export {
  type Anomaly,
  type AnomalyType,
  type CheckResult,
  checkHistory,
  type HistoryOp,
  type HistoryTxn,
} from './history-checker.js';
