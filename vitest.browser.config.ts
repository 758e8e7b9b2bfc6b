// Browser tests: vitest runs in Node and drives system Chromium through
// test/browser/harness.ts. Run inside the private netns: npm run test:browser
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    setupFiles: ['./node/polyfill.ts'],
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false
  }
})
