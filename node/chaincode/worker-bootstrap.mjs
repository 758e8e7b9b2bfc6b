// First module of every chaincode worker thread: lets the thread load Weft's TypeScript, then
// hands over to worker-entry.ts.
import { register } from 'tsx/esm/api'

register()
await import('./worker-entry.ts')
