// Node's OpenSSL SHAKE256 for computeCryptoHash: same bytes as the JS one, a few times faster,
// which matters for the bucket tree's thousands of hashes a block.
import { createHash } from 'node:crypto'
import { useNativeShake256 } from '../src/crypto/hash.ts'

useNativeShake256(data => {
  const d = createHash('shake256', { outputLength: 64 }).update(data).digest()
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
})
