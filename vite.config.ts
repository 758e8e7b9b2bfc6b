// Builds the web app (web/ -> dist/web). Browser tests don't use this file:
// test/browser/harness.ts starts its own dev server rooted at the repo.
import { createRequire } from 'node:module'
import { defineConfig } from 'vite'

const require = createRequire(import.meta.url)

export default defineConfig({
  root: 'web',
  base: './',
  resolve: {
    // abstract-level require()s 'events' without declaring it: use the npm polyfill.
    alias: [{ find: /^events$/, replacement: require.resolve('events/') }]
  },
  server: { host: '127.0.0.1', fs: { allow: ['..'] } },
  build: { outDir: '../dist/web', emptyOutDir: true }
})
