export { computeCryptoHash, fnv1a32 } from './hash.ts'
export * from './bytes.ts'
