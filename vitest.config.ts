import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    setupFiles: ['./node/polyfill.ts'],
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
