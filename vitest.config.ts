import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages from source, so `npm test` needs no build first.
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));
const alias = [
  // Subpath entries first: `@bucketdb/store/conformance` is `packages/store/src/conformance/index.ts`.
  { find: /^@bucketdb\/([\w-]+)\/([\w-]+)$/, replacement: `${packagesDir}$1/src/$2/index.ts` },
  ...readdirSync(packagesDir).map((name) => ({
    find: new RegExp(`^@bucketdb/${name}$`),
    replacement: `${packagesDir}${name}/src/index.ts`,
  })),
];

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests that build an S3Client directly would print the SDK's Node 20 notice (see S3Store).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
