export { type ChildResult, collect, runTs, spawnTs } from './child.js';
export { type TempDir, tempDir } from './temp-dir.js';
