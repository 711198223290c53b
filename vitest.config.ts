import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the `@ocikit/source`
// export condition, so tests run without a build step.
export default defineConfig({
  resolve: { conditions: ['@ocikit/source', ...defaultServerConditions] },
  ssr: { resolve: { conditions: ['@ocikit/source', ...defaultServerConditions] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tools/*/src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // `tools/run.sh test` retries a failed test once (OCIKIT_TEST_RETRIES=1), as podman's CI does
    // its e2e tests (decision 209); the flaky reporter names every test that needed it
    retry: Number(process.env['OCIKIT_TEST_RETRIES'] ?? 0),
    reporters: ['default', './tools/checks/src/flaky-reporter.ts'],
  },
});
