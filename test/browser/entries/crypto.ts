// Runs in the tab: exposes src/crypto hashes to test/browser/crypto.test.ts.
import { computeCryptoHash, fnv1a32 } from '../../../src/crypto/hash.ts'
import { exposeTestApi } from '../page-api.ts'

exposeTestApi('crypto', {
  computeCryptoHash: (data: Uint8Array) => computeCryptoHash(data),
  fnv1a32: (data: Uint8Array) => fnv1a32(data),
  /** Both hashes over many inputs in one round trip. */
  hashAll: (inputs: Uint8Array[]) => inputs.map(d => ({ shake: computeCryptoHash(d), fnv: fnv1a32(d) })),
  userAgent: () => navigator.userAgent
})
