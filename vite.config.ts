// The web app (web/ -> dist/web): `npm run build:web` builds it (printing raw and gzip sizes),
// `npx vite` serves it for development. A dev page reads /weft/bootstrap.json through the proxy
// below from a running Node peer (`npm start`; WEFT_PEER_WEB names another one). Browser tests
// don't use this file: test/browser/harness.ts starts its own dev server rooted at the repo, and
// the app tests use this build.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import { weftExamples, weftSizeReport } from './node/web/vite-plugins.ts'

const require = createRequire(import.meta.url)
const peerWeb = process.env.WEFT_PEER_WEB ?? 'http://127.0.0.1:7080'

export default defineConfig({
  root: 'web',
  base: './',
  resolve: {
    // abstract-level require()s 'events' without declaring it: use the npm polyfill.
    alias: [{ find: /^events$/, replacement: require.resolve('events/') }]
  },
  plugins: [weftExamples(fileURLToPath(new URL('./examples/chaincode', import.meta.url))), weftSizeReport({ limitGzip: 1024 * 1024 })],
  server: {
    host: '127.0.0.1',
    fs: { allow: ['..'] },
    proxy: { '/weft/': { target: peerWeb, changeOrigin: true } }
  },
  worker: { format: 'es' },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    // libp2p alone is a few hundred kB; the budget that matters is the gzip first-load total above.
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: false
  }
})
