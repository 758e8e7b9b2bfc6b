import { cbc } from '@noble/ciphers/aes.js'
import { concatBytes } from '../bytes.ts'
import { type RandomBytes, cryptoRandomBytes } from './ec-key.ts'
import { AES_KEY_LENGTH } from './suite.ts'

const BLOCK = 16

/** primitives.GenAESKey: 32 random bytes. */
export function generateAesKey (random: RandomBytes = cryptoRandomBytes): Uint8Array {
  return random(AES_KEY_LENGTH)
}

/** PKCS#7 to a 16-byte block; a full block is added when the input is already aligned. */
export function pkcs7Pad (src: Uint8Array): Uint8Array {
  const n = BLOCK - (src.length % BLOCK)
  return concatBytes(src, new Uint8Array(n).fill(n))
}

export function pkcs7Unpad (src: Uint8Array): Uint8Array {
  const n = src.length === 0 ? 0 : src[src.length - 1]
  if (n > BLOCK || n === 0 || n > src.length) throw new Error('invalid padding')
  for (let i = src.length - n; i < src.length; i++) if (src[i] !== n) throw new Error('invalid padding')
  return src.slice(0, src.length - n)
}

/** primitives.CBCEncrypt: AES-CBC of block-aligned input, a random IV written before the ciphertext. */
export function cbcEncrypt (key: Uint8Array, plain: Uint8Array, random: RandomBytes = cryptoRandomBytes): Uint8Array {
  if (plain.length % BLOCK !== 0) throw new Error('plaintext is not a multiple of the block size')
  const iv = random(BLOCK)
  return concatBytes(iv, cbc(key, iv, { disablePadding: true }).encrypt(plain))
}

/** primitives.CBCDecrypt: the first 16 bytes are the IV; no padding is removed. */
export function cbcDecrypt (key: Uint8Array, src: Uint8Array): Uint8Array {
  if (src.length < BLOCK) throw new Error('ciphertext too short')
  const body = src.subarray(BLOCK)
  if (body.length % BLOCK !== 0) throw new Error('ciphertext is not a multiple of the block size')
  return cbc(key, src.subarray(0, BLOCK), { disablePadding: true }).decrypt(body)
}

/** primitives.CBCPKCS7Encrypt. */
export function cbcPkcs7Encrypt (key: Uint8Array, plain: Uint8Array, random: RandomBytes = cryptoRandomBytes): Uint8Array {
  return cbcEncrypt(key, pkcs7Pad(plain), random)
}

/** primitives.CBCPKCS7Decrypt. */
export function cbcPkcs7Decrypt (key: Uint8Array, src: Uint8Array): Uint8Array {
  return pkcs7Unpad(cbcDecrypt(key, src))
}
