export * from './kv.ts'
export * from './columns.ts'
export { levelStore } from './level.ts'
export { memoryStore } from './memory.ts'
